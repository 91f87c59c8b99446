"""Connector options as pydantic models, with mistakes placed at their line in config.yaml.

A factory calls :func:`parse_options`; each pydantic complaint becomes an :class:`OptionsError`
that carries the option's path inside the connector's section (``options_loc``), so the config
loader reports ``config.yaml:12:5`` for a bad ``page_size`` rather than the connector's line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from syncengine.errors import ConfigError, ConfigErrors
from syncengine.mapping.diagnostics import did_you_mean

__all__ = ["OptionsError", "RestOptions", "parse_options"]

Model = TypeVar("Model", bound=BaseModel)


class RestOptions(BaseModel):
    """What every REST connector can be told in config.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    page_size: int = Field(100, ge=1, le=1000)
    timeout: float = Field(30.0, gt=0)
    #: client-side pacing, in requests per second (None: no limiter, the server's 429s pace us).
    rate_limit_per_second: float | None = Field(None, gt=0)
    max_attempts: int = Field(5, ge=1, le=20)


class OptionsError(ConfigError):
    """A bad connector option; ``options_loc`` is its path inside the connector's section."""

    def __init__(self, message: str, *, options_loc: tuple[Any, ...] = (), hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.options_loc = options_loc


def parse_options(model: type[Model], options: Mapping[str, Any], *, connector: str) -> Model:
    """Validate ``options``; every mistake at once (:class:`ConfigErrors` of :class:`OptionsError`)."""
    try:
        return model.model_validate(dict(options))
    except PydanticError as exc:
        errors: list[ConfigError] = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            name = ".".join(str(p) for p in loc) or "options"
            if error["type"] == "extra_forbidden":
                message = f"connector {connector!r}: unknown option {name!r}{did_you_mean(name, model.model_fields)}"
                hint = f"known: {', '.join(sorted(model.model_fields))}"
            elif error["type"] == "missing":
                message, hint = f"connector {connector!r}: missing option {name!r}", None
            else:
                message, hint = f"connector {connector!r}: option {name!r}: {error['msg']}", None
            errors.append(OptionsError(message, options_loc=loc, hint=hint))
        if len(errors) == 1:
            raise errors[0] from None
        raise ConfigErrors(errors) from None
