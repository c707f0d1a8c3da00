"""Fixtures for every test: the prepared-data cache lives in a temporary folder, never in the
user's data folder (child processes inherit it through the environment)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _temporary_data_cache(tmp_path_factory):
    if "WORKBENCH_DATA_CACHE" in os.environ:
        yield
        return
    os.environ["WORKBENCH_DATA_CACHE"] = str(tmp_path_factory.mktemp("data-cache"))
    yield
    os.environ.pop("WORKBENCH_DATA_CACHE", None)
