"""Page arithmetic for list RPCs: 1-based pages, bounded page sizes."""

from __future__ import annotations

from dataclasses import dataclass

from services.jobs.domain.validation import ValidationError

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# Deep pages are never useful to a person and make OFFSET scans expensive.
MAX_PAGE = 100_000


@dataclass(frozen=True, slots=True)
class Page:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def resolve_page(page: int, per_page: int) -> Page:
    """0 means 'the default' for both numbers (proto3 cannot tell unset from 0)."""
    if per_page == 0:
        per_page = DEFAULT_PER_PAGE
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationError("per_page", f"per_page must be between 1 and {MAX_PER_PAGE} (got {per_page})")
    if page == 0:
        page = 1
    if not 1 <= page <= MAX_PAGE:
        raise ValidationError("page", f"page must be between 1 and {MAX_PAGE:,} (got {page})")
    return Page(page=page, per_page=per_page)
