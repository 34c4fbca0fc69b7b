"""The Splink (Fellegi-Sunter) linkage model: train on the place's own data, save and load as JSON, predict pairs.

u probabilities come from random sampling, m probabilities from EM over several blocking passes, the prior from
deterministic rules with an assumed recall. The same settings run on DuckDB or Spark (see `backends`).
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from splink import Linker, SettingsCreator, block_on

from . import blocking
from .backends import Backend, DuckDBBackend
from .comparisons import ALL_COMPARISONS, FieldComparison, by_name, splink_comparison
from .nicknames import default_table
from .record import LinkageRecord

LinkType = Literal["dedupe_only", "link_only", "link_and_dedupe"]
MODEL_FORMAT = "joinedup-linkage-model/1"
# Fills a level that training never observed on both sides: m = u, so the level is no evidence either way.
_UNOBSERVED = 1e-6
# No m or u below this: EM on clean data drives some to 1e-30, and one disagreeing field would then veto any
# amount of agreement (about -13 bits is the most one field can say).
MIN_PROBABILITY = 1e-4


@dataclass(frozen=True)
class ModelConfig:
    """What the model compares and how it is trained; saved with the model."""

    comparisons: tuple[str, ...] = tuple(c.name for c in ALL_COMPARISONS)
    link_type: LinkType = "dedupe_only"
    prediction_keys: tuple[blocking.BlockingKey, ...] = blocking.PREDICTION_KEYS
    training_keys: tuple[blocking.BlockingKey, ...] = blocking.TRAINING_KEYS
    max_pairs_for_u: float = 2e6
    seed: int = 42
    # The prior (probability two random records match) from pairs agreeing on these, assumed to find this share.
    prior_keys: tuple[blocking.BlockingKey, ...] = (("given_name", "family_name", "birth_date"),)
    prior_recall: float = 0.7
    # Training (EM over every blocked pair) on a whole borough needs tens of GiB; past this many records the model
    # is trained on the records of a share of birth dates (so a person's records stay together), the prior rescaled.
    max_training_records: int = 100_000

    def field_comparisons(self) -> tuple[FieldComparison, ...]:
        return by_name(self.comparisons)

    def to_json(self) -> dict[str, Any]:
        return {
            "comparisons": list(self.comparisons),
            "link_type": self.link_type,
            "prediction_keys": [list(k) for k in self.prediction_keys],
            "training_keys": [list(k) for k in self.training_keys],
            "max_pairs_for_u": self.max_pairs_for_u,
            "seed": self.seed,
            "prior_keys": [list(k) for k in self.prior_keys],
            "prior_recall": self.prior_recall,
            "max_training_records": self.max_training_records,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelConfig:
        return cls(
            comparisons=tuple(data["comparisons"]),
            link_type=data["link_type"],
            prediction_keys=tuple(tuple(k) for k in data["prediction_keys"]),
            training_keys=tuple(tuple(k) for k in data["training_keys"]),
            max_pairs_for_u=float(data["max_pairs_for_u"]),
            seed=int(data["seed"]),
            prior_keys=tuple(tuple(k) for k in data["prior_keys"]),
            prior_recall=float(data["prior_recall"]),
            max_training_records=int(data.get("max_training_records", 150_000)),
        )


@dataclass(frozen=True)
class ScoredPair:
    """One compared pair from a batch prediction; `levels` is each comparison's level index (see comparisons)."""

    left: str
    right: str
    match_weight: float
    match_probability: float
    levels: dict[str, int] = field(default_factory=dict)


def _settings_creator(config: ModelConfig) -> SettingsCreator:
    return SettingsCreator(
        link_type=config.link_type,
        unique_id_column_name="unique_id",
        comparisons=[splink_comparison(c) for c in config.field_comparisons()],
        blocking_rules_to_generate_predictions=blocking.splink_rules(config.prediction_keys),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        additional_columns_to_retain=[],
    )


def _linker(
    settings: SettingsCreator | dict[str, Any], records: Sequence[LinkageRecord], backend: Backend, link_type: str
) -> Linker:
    tables, aliases = backend.input_tables(records, split_by_source=link_type != "dedupe_only")
    return Linker(tables, settings, db_api=backend.db_api(), input_table_aliases=aliases)


LevelParameters = tuple[float, float] | None  # (m, u); None for the null level


class LinkageModel:
    """A trained model: the config that made it, the prior and every level's m and u, the nickname table version.

    The Splink settings are rebuilt from the config for whichever engine runs them, then given these numbers, so
    a model trained on DuckDB runs unchanged on Spark and in the Python scorer.
    """

    def __init__(
        self,
        config: ModelConfig,
        prior: float,
        parameters: tuple[tuple[LevelParameters, ...], ...],
        nickname_version: str,
    ) -> None:
        comparisons = config.field_comparisons()
        if len(parameters) != len(comparisons) or any(
            len(p) != len(c.levels) for p, c in zip(parameters, comparisons, strict=True)
        ):
            raise ValueError("model parameters do not fit the comparisons of its config")
        self.config = config
        self.prior = prior
        self.parameters = parameters
        self.nickname_version = nickname_version

    @classmethod
    def train(
        cls, records: Sequence[LinkageRecord], backend: Backend | None = None, config: ModelConfig | None = None
    ) -> LinkageModel:
        """Estimate the prior, u by random sampling and m by EM on these records (the place's own data). Without a
        config, the blocking keys are chosen by the place's size (`blocking.prediction_keys_for`)."""
        config = config or ModelConfig(prediction_keys=blocking.prediction_keys_for(len(records)))
        backend = backend or DuckDBBackend()
        everyone = len(records)
        records = training_sample(records, config.max_training_records)
        linker = _linker(_settings_creator(config), records, backend, config.link_type)
        training = linker.training
        training.estimate_probability_two_random_records_match(
            [block_on(*key) for key in config.prior_keys], recall=config.prior_recall
        )
        training.estimate_u_using_random_sampling(max_pairs=config.max_pairs_for_u, seed=config.seed)
        for key in config.training_keys:
            training.estimate_parameters_using_expectation_maximisation(block_on(*key))
        trained = linker.misc.save_model_to_json(out_path=None)
        # A record has about as many matches in the sample as in the place, among fewer others: rescale the prior.
        scale = (len(records) - 1) / (everyone - 1) if everyone > 1 else 1.0
        return cls(
            config,
            float(trained["probability_two_random_records_match"]) * scale,
            _parameters_of(trained, config.field_comparisons()),
            default_table().version,
        )

    def splink_settings(self, dialect: str) -> dict[str, Any]:
        """Splink settings for an engine ('duckdb', 'spark'), carrying this model's prior, m and u."""
        settings = _settings_creator(self.config).create_settings_dict(dialect)
        settings["probability_two_random_records_match"] = self.prior
        for comparison, parameters in zip(settings["comparisons"], self.parameters, strict=True):
            for level, values in zip(comparison["comparison_levels"], parameters, strict=True):
                if values is not None:
                    level["m_probability"], level["u_probability"] = values
        return settings

    def predict(
        self, records: Sequence[LinkageRecord], backend: Backend | None = None, threshold: float = 0.0
    ) -> list[ScoredPair]:
        """Score every blocked pair with match probability at or above `threshold`."""
        backend = backend or DuckDBBackend()
        settings = self.splink_settings(backend.name)
        linker = _linker(settings, records, backend, self.config.link_type)
        predictions = linker.inference.predict(threshold_match_probability=threshold)
        comparisons = self.config.field_comparisons()
        # Only the columns a decision needs: a borough has hundreds of thousands of pairs over the threshold, and
        # Splink's rows (every compared value of both records) took longer to turn into Python than to score.
        columns = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
        columns += [f"gamma_{c.name}" for c in comparisons]
        rows = backend.fetch(f"SELECT {', '.join(columns)} FROM {predictions.physical_name}")
        return [_scored_pair(row, comparisons) for row in rows]

    # --- persistence ---------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        comparisons = self.config.field_comparisons()
        return {
            "format": MODEL_FORMAT,
            "config": self.config.to_json(),
            "nickname_table_version": self.nickname_version,
            "probability_two_random_records_match": self.prior,
            "comparisons": [
                {
                    "name": comparison.name,
                    "levels": [
                        {"label": level.label, "m": None if p is None else p[0], "u": None if p is None else p[1]}
                        for level, p in zip(comparison.levels, parameters, strict=True)
                    ],
                }
                for comparison, parameters in zip(comparisons, self.parameters, strict=True)
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinkageModel:
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a JoinedUp linkage model (format {data.get('format')!r})")
        config = ModelConfig.from_json(data["config"])
        parameters: list[tuple[LevelParameters, ...]] = []
        for comparison, saved in zip(config.field_comparisons(), data["comparisons"], strict=True):
            labels = [level["label"] for level in saved["levels"]]
            if saved["name"] != comparison.name or labels != [level.label for level in comparison.levels]:
                raise ValueError(f"saved comparison {saved['name']!r} does not match this version's definition")
            parameters.append(
                tuple(None if lv["m"] is None else (float(lv["m"]), float(lv["u"])) for lv in saved["levels"])
            )
        return cls(
            config,
            float(data["probability_two_random_records_match"]),
            tuple(parameters),
            str(data["nickname_table_version"]),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinkageModel:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def training_sample(records: Sequence[LinkageRecord], limit: int) -> Sequence[LinkageRecord]:
    """All the records, or those whose birth date falls in a stable share of dates (a person's records mostly agree
    on it, so their pairs stay in the sample) — enough for EM, a fraction of its memory."""
    if len(records) <= limit:
        return records
    dated = [r for r in records if r.birth_date]
    buckets = 1000
    keep = max(1, buckets * limit // max(1, len(dated)))
    return [r for r in dated if zlib.crc32(r.birth_date.encode()) % buckets < keep]  # type: ignore[union-attr]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, float | int) and value > 0 else None


def _parameters_of(
    trained: dict[str, Any], comparisons: tuple[FieldComparison, ...]
) -> tuple[tuple[LevelParameters, ...], ...]:
    """Every level's (m, u) from Splink's trained settings. A level training never saw gets m = u (no evidence)."""
    result: list[tuple[LevelParameters, ...]] = []
    for comparison, saved in zip(comparisons, trained["comparisons"], strict=True):
        levels: list[LevelParameters] = []
        for level in saved["comparison_levels"]:
            if level.get("is_null_level"):
                levels.append(None)
                continue
            m, u = _number(level.get("m_probability")), _number(level.get("u_probability"))
            if m is None or u is None:
                m = u = m or u or _UNOBSERVED
            else:
                m, u = max(m, MIN_PROBABILITY), max(u, MIN_PROBABILITY)
            levels.append((m, u))
        if len(levels) != len(comparison.levels):
            raise AssertionError(f"Splink returned {len(levels)} levels for {comparison.name}")
        result.append(tuple(levels))
    return tuple(result)


def _scored_pair(row: Sequence[Any], comparisons: tuple[FieldComparison, ...]) -> ScoredPair:
    """A prediction row: the two ids, match weight and probability, then each comparison's gamma in order."""
    left, right, weight, probability, *gammas = row
    levels = {c.name: gamma_to_index(int(g), len(c.levels)) for c, g in zip(comparisons, gammas, strict=True)}
    return ScoredPair(str(left), str(right), float(weight), float(probability), levels)


def gamma_to_index(gamma: int, level_count: int) -> int:
    """Splink's comparison vector value (-1 null, 0 else, highest for the first level) as an index into levels."""
    if gamma == -1:
        return 0
    return level_count - 1 - gamma


def probability_from_weight(weight: float) -> float:
    return 1.0 / (1.0 + math.pow(2.0, -weight))
