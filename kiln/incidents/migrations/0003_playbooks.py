"""The standard playbooks (SOP checklists) for the four incident types; editable afterwards."""

from django.db import migrations

PLAYBOOKS = {
    "data_collection": [
        ("确认异常范围：涉及的企业、月份、数据项与数据来源", "Confirm the scope: enterprises, months, items and data sources affected"),
        ("冻结受影响的企业月份数据，防止继续写入", "Freeze the affected enterprise-months so that nothing more is written"),
        ("与原始凭证、电网计量等独立数据源核对", "Check against the original vouchers and independent sources such as the grid meter"),
        ("通知相关企业说明情况并限期补正", "Ask the enterprises concerned to explain and correct by a deadline"),
        ("数据更正后重新筛查并解除冻结", "Screen again after the correction and release the freeze"),
        ("编写处置报告并开展事后复盘", "Write the incident report and hold the post-incident review"),
    ],
    "policy_change": [
        ("登记新的排放因子或核算方法及其生效日期", "Register the new factor set or method and when it takes effect"),
        ("评估影响范围：涉及的地区、年份、行业与企业", "Assess the scope: regions, years, industries and enterprises affected"),
        ("以新因子试算（what-if）并与正式结果对比", "Recompute with the new factors as a what-if run and compare with the official results"),
        ("审定后将试算结果提升为正式结果", "After approval, promote the recomputed run to official"),
        ("告知受影响的企业与主管部门", "Inform the enterprises and authorities affected"),
        ("编写处置报告并开展事后复盘", "Write the incident report and hold the post-incident review"),
    ],
    "system_security": [
        ("隔离受影响的账户、令牌或服务", "Isolate the accounts, tokens or services affected"),
        ("检查审计日志与证据存证账本的完整性", "Verify the audit log and the evidence ledger"),
        ("评估数据是否被篡改或泄露", "Assess whether data were altered or leaked"),
        ("修复漏洞，轮换密钥与令牌", "Fix the weakness; rotate keys and tokens"),
        ("按规定向主管部门报告", "Report to the authorities as required"),
        ("编写处置报告并开展事后复盘", "Write the incident report and hold the post-incident review"),
    ],
    "client_crisis": [
        ("明确诉求及涉及的企业、数据和时间", "Establish the complaint and the enterprises, data and dates involved"),
        ("指定对接人并在规定时间内首次回复", "Name a contact and give a first answer within the set time"),
        ("核实数据与处理过程，必要时冻结相关数据", "Check the data and how they were handled; freeze them if needed"),
        ("形成处理意见并与客户沟通确认", "Agree the resolution with the client"),
        ("编写处置报告并开展事后复盘", "Write the incident report and hold the post-incident review"),
    ],
}


def load(apps, schema_editor):
    Playbook = apps.get_model("incidents", "Playbook")
    for kind, steps in PLAYBOOKS.items():
        Playbook.objects.get_or_create(kind=kind, defaults={"steps_zh": [zh for zh, _ in steps],
                                                            "steps_en": [en for _, en in steps]})


def unload(apps, schema_editor):
    apps.get_model("incidents", "Playbook").objects.filter(kind__in=list(PLAYBOOKS), updated_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_initial")]
    operations = [migrations.RunPython(load, unload)]
