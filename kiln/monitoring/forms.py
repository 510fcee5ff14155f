from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from kiln.monitoring.geo import MAX_BYTES
from kiln.registry.models import Region


class MapUploadForm(forms.Form):
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.filter(Exists(Region.objects.filter(parent=OuterRef("pk")))).order_by("path"),
        help_text=_("The map shows this region's sub-regions (the counties of a city)."),
    )
    file = forms.FileField(
        label=_("Boundaries (GeoJSON)"),
        help_text=_("A FeatureCollection of Polygon or MultiPolygon features, one per sub-region, each with its "
                    "GB/T 2260 code in the property code (or adcode)."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(mb)s MB."), params={"mb": MAX_BYTES // 1024 // 1024})
        return upload
