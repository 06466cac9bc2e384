"""Old import path of the attachment policies, kept for code written against leosim 0.1
(``from leosim.attachment import Scheduled``); they live in :mod:`leosim.network.attachment`."""

from leosim.network.attachment import *  # noqa: F403
from leosim.network.attachment import __all__  # noqa: F401
