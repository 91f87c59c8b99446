"""Fixtures of the contract suite: every test runs once per registered subject."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncengine.connector import Connector

from .subjects import SUBJECTS, ContractSubject, SubjectEnv


@pytest.fixture(params=[s.param() for s in SUBJECTS])
def subject(request: pytest.FixtureRequest) -> ContractSubject:
    value: ContractSubject = request.param
    return value


@pytest.fixture
def env(tmp_path: Path, request: pytest.FixtureRequest) -> SubjectEnv:
    return SubjectEnv(tmp_path, request)


@pytest.fixture
def made(subject: ContractSubject, env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
    with subject.make(env) as pair:
        yield pair
