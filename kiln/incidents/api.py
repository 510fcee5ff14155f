"""Incidents API (read-only): the incidents a caller may see, and one incident with its timeline."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from kiln.accounts.current import current_membership
from kiln.incidents.queries import visible_incidents

router = Router(tags=["incidents"])


class ActionOut(Schema):
    kind: str
    text: str
    data: dict
    at: str
    actor: str


class IncidentOut(Schema):
    id: int
    title: str
    kind: str
    level: str
    colour: str
    status: str
    region_code: str
    owner: str
    opened_at: str
    resolved_at: str | None
    closed_at: str | None
    compare_url: str


class IncidentDetailOut(IncidentOut):
    summary: str
    unforeseen: str
    improvements: str
    findings: list[int]
    timeline: list[ActionOut]


def _out(i) -> dict:
    return {
        "id": i.pk,
        "title": i.title,
        "kind": i.kind,
        "level": i.level,
        "colour": i.colour,
        "status": i.status,
        "region_code": i.region.code,
        "owner": i.owner.username,
        "opened_at": i.opened_at.isoformat(),
        "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None,
        "closed_at": i.closed_at.isoformat() if i.closed_at else None,
        "compare_url": i.compare_url,
    }


@router.get("", response=list[IncidentOut])
def list_incidents(request, status: str | None = None):
    qs = visible_incidents(current_membership(request))
    if status:
        qs = qs.filter(status=status)
    return [_out(i) for i in qs[:500]]


@router.get("/{incident_id}", response=IncidentDetailOut)
def get_incident(request, incident_id: int):
    i = get_object_or_404(visible_incidents(current_membership(request)), pk=incident_id)
    timeline = [
        {
            "kind": a.kind,
            "text": a.text,
            "data": a.data,
            "at": a.at.isoformat(),
            "actor": a.actor.username if a.actor else "",
        }
        for a in i.actions.select_related("actor")
    ]
    return {
        **_out(i),
        "summary": i.summary,
        "unforeseen": i.unforeseen,
        "improvements": i.improvements,
        "findings": list(i.findings.values_list("pk", flat=True)),
        "timeline": timeline,
    }
