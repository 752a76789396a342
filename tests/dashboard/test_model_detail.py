import httpx
from django.urls import reverse


def test_scratch(owner, sandbox, real_api, settings):
    pass


def test_scratch2(owner, sandbox):
    url = reverse("model-detail", args=["acme/llama-3.1-8b-support"])
    print(url)
    r = owner.get(url)
    print(r.status_code)
    c = r.content.decode()
    import re
    print(re.sub(r"<[^>]+>", " ", c[c.find("<main"):])[:3000])


def test_scratch3(owner, real_api):
    route = real_api.get(path__startswith="/models/").respond(200, json={"id": "a/b", "object": "model", "created": 1, "owned_by": "x"})
    r = owner.get(reverse("model-detail", args=["a/b"]))
    print(r.status_code, route.call_count, route.calls.last.request.url.raw_path)
    route2 = real_api.get("/models").respond(200, json={"object": "list", "data": []})
    r = owner.get("/models/")
    print(r.status_code, route2.call_count, route2.calls.last.request.url)
