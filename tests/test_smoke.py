from django.urls import reverse


def test_landing_page_in_chinese_by_default(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.text
    assert "登录" in response.text


def test_landing_page_in_english(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get("/")
    assert 'lang="en"' in response.text
    assert "Log in" in response.text


def test_health(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
