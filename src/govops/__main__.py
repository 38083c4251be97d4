from govops.cli.main import app

app(prog_name="govops")
