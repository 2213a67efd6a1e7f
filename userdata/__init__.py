"""Everything that becomes bytes on a node: settings model, templates, renderer, node scripts."""

from .limits import EC2_USER_DATA_LIMIT, USER_DATA_BUDGET
from .members import well_known_members, wka_members_for
from .render import RenderedUserData, UserDataTooLarge, node_document, render_user_data, required_secrets
from .settings import NodeSettings

__all__ = [
    "EC2_USER_DATA_LIMIT",
    "USER_DATA_BUDGET",
    "NodeSettings",
    "RenderedUserData",
    "UserDataTooLarge",
    "node_document",
    "render_user_data",
    "required_secrets",
    "well_known_members",
    "wka_members_for",
]
