"""Directives and tasks: every task the Government and the Prime Minister assign, followed on data until done."""
