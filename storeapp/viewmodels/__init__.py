"""Screen state and actions for the tablet app: plain Python, no Flet.

Each view-model method is one user action and returns a frozen screen object
with a message and its tone; ordinary wrong input is a message, never an
exception. `clock` and `on_change` (wake the sync engine) are injected.
"""

from .approvals import ApprovalsScreen, ApprovalsVM
from .counting import CountScreen, CountVM
from .enroll import EnrollScreen, EnrollVM
from .handover import HandoverScreen, HandoverVM
from .home import HomeScreen, HomeVM
from .picking import PickListVM, PickScreen
from .queue import QueueScreen, QueueVM
from .returns import ReturnsScreen, ReturnsVM
from .session import Associate, SessionScreen, SessionVM
from .staging import StagingScreen, StagingVM
from .sync_status import Chip, SyncScreen, SyncStatusVM
from .tasks import TasksScreen, TasksVM

__all__ = [
    "ApprovalsScreen",
    "ApprovalsVM",
    "Associate",
    "Chip",
    "CountScreen",
    "CountVM",
    "EnrollScreen",
    "EnrollVM",
    "HandoverScreen",
    "HandoverVM",
    "HomeScreen",
    "HomeVM",
    "PickListVM",
    "PickScreen",
    "QueueScreen",
    "QueueVM",
    "ReturnsScreen",
    "ReturnsVM",
    "SessionScreen",
    "SessionVM",
    "StagingScreen",
    "StagingVM",
    "SyncScreen",
    "SyncStatusVM",
    "TasksScreen",
    "TasksVM",
]
