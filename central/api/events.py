"""/v1/oms/events and /v1/oms/webhooks (issue #11): the event feed, with an integration key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from sync.protocol import PLAIN_PATTERN, ErrorBody

from ..service import events, webhooks
from .deps import EngineDep, Integration

router = APIRouter(
    prefix="/v1/oms",
    dependencies=[Integration],
    responses={
        401: {"model": ErrorBody, "description": "missing or unknown integration key"},
        403: {"model": ErrorBody, "description": "a device token"},
    },
)

MAX_LIMIT = 1000


class EventOut(BaseModel):
    event_id: str  # "ev_<position>": the same id in the feed and in a webhook's delivery
    type: str
    store_id: str
    occurred_at: datetime
    data: dict[str, Any]


class EventPage(BaseModel):
    events: list[EventOut]
    cursor: str  # give it back to read on; the same events in the same order with any limit
    has_more: bool


class WebhookIn(BaseModel):
    url: str = Field(min_length=1, max_length=2048, pattern=PLAIN_PATTERN)
    events: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=50)
    store_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=1000
    )


class WebhookCreated(BaseModel):
    webhook_id: str
    secret: str  # shown once: it signs every delivery (X-Storeapp-Signature)


def _types(types: str | None) -> list[str]:
    return [] if not types else types.split(",")


@router.get(
    "/events",
    response_model=EventPage,
    responses={
        400: {"model": ErrorBody, "description": "BAD_CURSOR: not a cursor of this feed"},
        404: {"model": ErrorBody, "description": "UNKNOWN_STORE"},
        410: {"model": ErrorBody, "description": "CURSOR_EXPIRED: older than the retention"},
        422: {"model": ErrorBody, "description": "UNKNOWN_EVENT_TYPE or a bad limit"},
    },
)
def get_events(
    engine: EngineDep,
    cursor: Annotated[str | None, Query(max_length=200, pattern=PLAIN_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    store_id: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=PLAIN_PATTERN)
    ] = None,
    types: Annotated[
        str | None,
        Query(max_length=2000, pattern=PLAIN_PATTERN, description="comma-separated types"),
    ] = None,
) -> dict[str, Any]:
    """The feed after `cursor` (none: from the oldest kept), oldest first."""
    return events.read_feed(engine, cursor, limit, store_id, _types(types))


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    responses={404: {"model": ErrorBody, "description": "UNKNOWN_STORE"}},
)
def post_webhook(body: WebhookIn, engine: EngineDep) -> dict[str, Any]:
    """Subscribe a URL to events from now on; the secret is in this answer only."""
    return webhooks.create_webhook(engine, body.url, body.events, body.store_ids)


@router.get("/webhooks")
def get_webhooks(engine: EngineDep) -> list[dict[str, Any]]:
    """Subscriptions with their deliveries by state and the latest failed ones."""
    return webhooks.list_webhooks(engine)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    responses={404: {"model": ErrorBody, "description": "UNKNOWN_WEBHOOK"}},
)
def delete_webhook(
    webhook_id: Annotated[str, Path(min_length=1, max_length=64, pattern=PLAIN_PATTERN)],
    engine: EngineDep,
) -> Response:
    webhooks.delete_webhook(engine, webhook_id)
    return Response(status_code=204)
