"""What every console page needs: the signed-in user, what they may read, and error pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.auth.service import readable_classifications
from govops.auth.web import current_user
from govops.errors import GovopsError
from govops.web.deps import get_session


@dataclass
class Viewer:
    user: User
    classifications: tuple[str, ...]

    def may_read(self, classification: str) -> bool:
        return classification in self.classifications


class SignInRequired(GovopsError):
    def __init__(self) -> None:
        super().__init__("sign in to continue", code="sign_in_required", status=401)


def viewer(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    user: Annotated[User | None, Depends(current_user)],
) -> Viewer:
    if user is None:
        raise SignInRequired()
    return Viewer(user=user, classifications=readable_classifications(user.role))


ViewerDep = Annotated[Viewer, Depends(viewer)]
