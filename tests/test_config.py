"""Settings: environment variables read in one place, ranking settings as a value."""

from __future__ import annotations

import dataclasses

import pytest

from diploqa import config
from diploqa.config import RankingConfig


def test_backend_setting_is_checked(monkeypatch):
    monkeypatch.setenv("DIPLOQA_BACKEND", "Torch")
    assert config.backend() == "torch"
    monkeypatch.setenv("DIPLOQA_BACKEND", "tensorrt")
    with pytest.raises(ValueError, match="DIPLOQA_BACKEND"):
        config.backend()


def test_ranking_config_is_a_frozen_value():
    default = RankingConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        default.use_weight = 0.3  # type: ignore[misc]
    variant = dataclasses.replace(default, use_weight=0.0, sections=False)
    assert (variant.use_weight, variant.sections) == (0.0, False)
    assert default.use_weight == 0.15 and default.sections


def test_fault_injection_is_off_unless_set(monkeypatch):
    monkeypatch.delenv("DIPLOQA_FAULT", raising=False)
    monkeypatch.delenv("DIPLOQA_FAULT_GATE", raising=False)
    assert config.fault_injection() == (None, None)
    monkeypatch.setenv("DIPLOQA_FAULT", "pause:before-write")
    monkeypatch.setenv("DIPLOQA_FAULT_GATE", "/tmp/gate")
    assert config.fault_injection() == ("pause:before-write", config.Path("/tmp/gate"))


def test_no_module_but_config_reads_the_environment():
    """Every setting a user can change is listed in config.py (the crash tests' switch too)."""
    from pathlib import Path

    src = Path(config.__file__).parent
    readers = sorted(
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if path.name != "config.py"
        and ("os.environ.get(" in path.read_text() or "os.getenv(" in path.read_text())
    )
    assert readers == []
