"""What every console page needs: the signed-in user and what they may read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from govops.auth.models import User
from govops.auth.service import readable_classifications
from govops.errors import GovopsError
from govops.web.signin import current_user


@dataclass
class Viewer:
    user: User
    classifications: tuple[str, ...]


class SignInRequired(GovopsError):
    def __init__(self) -> None:
        super().__init__("sign in to continue", code="sign_in_required", status=401)


def viewer(user: Annotated[User | None, Depends(current_user)]) -> Viewer:
    if user is None:
        raise SignInRequired()
    return Viewer(user=user, classifications=readable_classifications(user.role))


ViewerDep = Annotated[Viewer, Depends(viewer)]
