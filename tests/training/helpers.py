"""What the training tests share."""

from __future__ import annotations

import datetime as dt

import polars as pl

from earlywarn.contract import load_dataset
from earlywarn.resources import sample_dataset
from earlywarn.settings import Settings
from earlywarn.training.pipeline import TrainResult, train


def train_on_sample(settings: Settings) -> TrainResult:
    """The sample's training at the start of 2026, compared with the simulator's truth."""
    truth = pl.read_csv(sample_dataset() / "truth.csv", try_parse_dates=True)
    return train(load_dataset(sample_dataset()), dt.datetime(2026, 1, 1), settings, truth=truth)
