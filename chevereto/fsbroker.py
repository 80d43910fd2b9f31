"""The embedded default's broker: Kombu's filesystem transport, with messages that appear
in the queue folder whole.

Kombu writes a message straight under its final name, and its consumer neither waits for
nor honours the writer's lock: a worker polling while a web process writes could read an
empty or half-written file, and a message that is not JSON stops the whole worker
("Unrecoverable error"). Here a message is written under a name the consumer skips and
then renamed into place, which is atomic within one folder.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        # The name Kombu gives a message (its consumer sorts and filters on it).
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # "<id>.<queue>.msg.part": not taken for `queue`
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}") from exc


class Transport(filesystem.Transport):
    Channel = Channel
