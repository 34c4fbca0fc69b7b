"""What a synthetic place is generated from: its size, seed, time window and the mess of real feeds."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

FULL_BOROUGH = 239_000  # the size the calibration tolerances are stated for
MAX_PEOPLE = 2_000_000  # the NHS number range we draw from (999 000 000x, reserved for testing) holds about 900,000


class ConfigError(ValueError):
    """A setting that cannot make a place; the message is one line for the command to print."""


@dataclass(frozen=True, slots=True)
class MessRates:
    """How often each kind of real-feed mess appears, as a share of the source Patient records it can touch.

    `no_nhs_number` applies to the social care and voluntary sector feeds only; the others apply to every feed
    except the GP system's, which holds the registered, traced demographics the others are matched against.
    """

    no_nhs_number: float = 0.25
    misspelling: float = 0.04
    nickname: float = 0.05
    dob_swap: float = 0.01
    moved_address: float = 0.08
    duplicate: float = 0.02
    wrong_nhs_number: float = 0.005

    def check(self) -> None:
        for name, value in asdict(self).items():
            if not 0.0 <= value <= 1.0:
                flag = name.replace("_", "-")
                raise ConfigError(f"--{flag}-rate must be between 0 and 1, not {value}")


@dataclass(frozen=True, slots=True)
class SynthConfig:
    """Everything that determines a place: the same config always gives byte-identical files."""

    people: int = 2_000
    seed: int = 1
    start: date = date(2019, 1, 1)
    end: date = date(2025, 12, 31)
    index_date: date = date(2024, 12, 31)
    mess: MessRates = field(default_factory=MessRates)
    work_only: bool = False  # people and their care coordination work only, no clinical history (benchmarks)
    today: date | None = None  # the day the open work stands at (decision 0506); None: the window's last day

    @property
    def work_day(self) -> date:
        return self.today or self.end

    def check(self) -> None:
        """Raise ConfigError with a one-line reason unless the settings can make a place."""
        if not 1 <= self.people <= MAX_PEOPLE:
            raise ConfigError(f"--people must be between 1 and {MAX_PEOPLE:,}, not {self.people}")
        if self.seed < 0:
            raise ConfigError(f"--seed must be zero or more, not {self.seed}")
        if self.start >= self.end:
            raise ConfigError(f"--start ({self.start}) must be before --end ({self.end})")
        if not self.start + timedelta(days=365) <= self.index_date:
            raise ConfigError(f"--index-date ({self.index_date}) must be at least a year after --start ({self.start})")
        if self.index_date + timedelta(days=365) > self.end:
            raise ConfigError(
                f"--index-date ({self.index_date}) must be at least a year before --end ({self.end}), "
                "so that the year it predicts is inside the window"
            )
        if self.today is not None and self.today < self.index_date:
            raise ConfigError(f"--today ({self.today}) must not be before --index-date ({self.index_date})")
        self.mess.check()

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values, for the manifest."""
        return {
            "people": self.people,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "index_date": self.index_date.isoformat(),
            "mess": asdict(self.mess),
            "work_only": self.work_only,
            "work_day": self.work_day.isoformat(),
        }
