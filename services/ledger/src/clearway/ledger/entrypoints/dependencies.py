"""What routes get from the app: the pool, the pipeline, and who may do what."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from clearway.ledger.domain.errors import LedgerError
from clearway.ledger.service.pipeline import PostingPipeline
from clearway.platform.auth import Principal, require_roles
from clearway.platform.errors import ProblemError

# Who may move money in the ledger, and who may only look.
# Moving money (out of `@World` included) is for the platform's own workflows and operators; a card
# processor reads but never posts here (its requests go through authorization's controls).
WRITERS = ("operator", "service")
READERS = (*WRITERS, "processor", "read_only", "approver")


def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.ledger_pool
    return pool


def get_pipeline(request: Request) -> PostingPipeline:
    pipeline: PostingPipeline = request.app.state.pipeline
    return pipeline


Pool = Annotated[asyncpg.Pool, Depends(get_pool)]
Pipeline = Annotated[PostingPipeline, Depends(get_pipeline)]
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]


def as_problem(error: LedgerError) -> ProblemError:
    extra = {key: value for key, value in error.extra.items() if key not in {"type", "title", "status", "detail"}}
    return ProblemError(error.detail, status=error.http_status, code=error.code, extra=extra)
