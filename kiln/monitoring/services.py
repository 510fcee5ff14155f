"""Every write of the monitoring app (DESIGN.md rule 2): region boundary uploads.

(Digests of calculation runs are derived data; see ``kiln.monitoring.digest``.)
"""

from __future__ import annotations

import hashlib

from django.db import transaction

from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.monitoring import geo
from kiln.monitoring.models import RegionMap
from kiln.registry.models import Region


@transaction.atomic
def upload_map(*, actor, region: Region, data: bytes, file_name: str = "", request=None) -> RegionMap:
    """Store validated boundaries of ``region``'s sub-regions as its current map.

    Raises ``geo.MapError`` (with a stable code) when the file does not match the registry;
    the previous map stays current then. Earlier uploads are kept, no longer current.
    """
    collection = geo.validate(data, region)
    before = RegionMap.objects.filter(region=region, current=True).first()
    RegionMap.objects.filter(region=region, current=True).update(current=False)
    region_map = RegionMap.objects.create(
        region=region,
        geojson=collection,
        feature_count=len(collection["features"]),
        sha256=hashlib.sha256(data).hexdigest(),
        file_name=file_name[:255],
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record(
        EventType.DATA_CREATED,
        actor=actor,
        target=region_map,
        before={"map": before.pk, "sha256": before.sha256} if before else None,
        after={"region": region.code, "areas": region_map.feature_count, "sha256": region_map.sha256,
               "file_name": region_map.file_name},
        request=request,
    )
    return region_map
