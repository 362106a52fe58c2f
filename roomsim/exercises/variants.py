"""Per-student variants: the same exercise with other names, rooms and times.

``variant(student_id)`` picks, from a hash of the id (not Python's
``hash``, so it is the same in every process), a renaming of the clients and
rooms, a shift of the timeline and which client disconnects.  Checks that
take a variant build their scenario from it and compute the right answer
by simulation, so two students' answers differ and neither can be copied.

Examples
--------
>>> v = variant("s12345")
>>> v == variant("s12345")
True
>>> v.name("alice") in NAME_POOL
True
>>> variant(None).name("alice"), variant(None).room("lobby")
('alice', 'lobby')
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

__all__ = ["BASE_NAMES", "BASE_ROOMS", "NAME_POOL", "ROOM_POOL", "Variant", "variant"]

#: The names and rooms the notebooks use; a variant renames each of them.
BASE_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank")
BASE_ROOMS = ("a", "b", "c", "lobby", "kitchen", "quiet", "chat", "room1")
#: What a variant picks from (the base names are left out so a renaming shows).
NAME_POOL = (
    "ada", "ben", "cleo", "dev", "eli", "fay", "gus", "hana", "ivo", "jun",
    "kai", "lea", "milo", "nia", "oto", "pia", "quin", "rui", "sol", "tess",
)  # fmt: skip
ROOM_POOL = (
    "red", "green", "blue", "gold", "teal", "plum", "sand", "mint", "rose", "sky",
    "oak", "elm", "fir", "ash",
)  # fmt: skip


@dataclass(frozen=True)
class Variant:
    """One student's version of the exercises.

    ``names`` and ``rooms`` rename the notebooks' clients and rooms,
    ``shift_ms`` moves the disconnection of 06.2 later (0 to 5 ms), and erin's
    join in 07.1 (when 2 or more), and
    ``leaver`` is the base name of the client that disconnects there (and in
    04.2).  Each exercise draws the rest of its changes from :meth:`draw`
    (02.1: who is in which room; 04.2 and 06.2: their timelines; 08.1, 09.2).
    """

    student_id: str
    names: dict[str, str] = field(default_factory=dict)
    rooms: dict[str, str] = field(default_factory=dict)
    shift_ms: int = 0
    leaver: str = "bob"

    def name(self, base: str) -> str:
        """The variant's name for the notebooks' client ``base``."""
        return self.names.get(base, base)

    def room(self, base: str) -> str:
        """The variant's name for the notebooks' room ``base``."""
        return self.rooms.get(base, base)

    @property
    def is_default(self) -> bool:
        """True for the notebooks' own version (no student id)."""
        return not self.student_id

    def draw(self, exercise_id: str) -> random.Random:
        """A random stream of this student's own for ``exercise_id`` (not Python's ``hash``).

        An exercise draws what its variant changes from it (08.1: how many
        messages and whether the sender has a member; 09.2: who is in which
        room), so a new exercise never shifts another's variant.

        Examples
        --------
        >>> variant("s1").draw("08.1").random() == variant("s1").draw("08.1").random()
        True
        """
        key = f"{self.student_id}\x00{exercise_id}".encode()
        return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))

    def __hash__(self) -> int:
        return hash(self.student_id)


def variant(student_id: str | int | None = None) -> Variant:
    """The variant of ``student_id``; ``None`` or ``""`` gives the notebooks' version."""
    if student_id is None or str(student_id) == "":
        return Variant("")
    key = str(student_id)
    seed = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    names = dict(zip(BASE_NAMES, rng.sample(NAME_POOL, len(BASE_NAMES)), strict=True))
    rooms = dict(zip(BASE_ROOMS, rng.sample(ROOM_POOL, len(BASE_ROOMS)), strict=True))
    return Variant(
        key, names, rooms, shift_ms=rng.randrange(0, 6), leaver=rng.choice(["alice", "bob"])
    )
