from kiln.intake.services import import_activity
from kiln.intake.models import ActivityRecord
from kiln.accounts.models import Membership
from tests.intake.files import row, csv_bytes, xlsx_bytes, codes

def test_smoke(world):
    m = Membership.objects.get(user=world.e1_staff)
    r = import_activity(csv_bytes([row(world.e1), row(world.e1, item="diesel", unit="kg", quantity="1,234")]), actor=world.e1_staff, membership=m, door="upload", file_name="a.csv")
    print(r.as_dict())
    assert r.ok
    print(list(ActivityRecord.objects.values()))
    r = import_activity(xlsx_bytes([row(world.e1), row(world.e2), row("91339902MA0000001X", period="2099-13", quantity="1e400", unit="m3")]), actor=world.e1_staff, membership=m, door="upload", file_name="a.xlsx")
    for e in r.as_dict()["errors"]: print(e)
