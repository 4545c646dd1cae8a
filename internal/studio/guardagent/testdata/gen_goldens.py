"""Record the requests a real guard-agent client sends, as golden payloads.

Run from this directory (see README.md):

    GUARD_AGENT_SRC=/path/to/guard-agent python3 gen_goldens.py
    GUARD_AGENT_SRC=/path/to/guard-agent python3 gen_goldens.py --check-rules

The second form only validates the Go-rendered rules_*.json documents with the agent's
own DynamicRules model.

GUARD_AGENT_SRC is a checkout of rennf93/guard-agent (v2.8.1, commit dfd6650 was used).
The script imports the agent's own models, transport, signing and encryption code and
drives HTTPTransport.send_events / send_metrics / send_status against a stand-in for
httpx that records each request (URL, headers, body bytes) and answers 201. So the
Python goldens are byte for byte what the agent sends: its serialisation
(json.dumps(default=str) of model_dump()), its gzip threshold, its signature over the
wire bytes and its AES-256-GCM envelope.

guard-agent-go cannot run here, so its goldens are built by this script from the
reference (§7, §8.1, §8.2): RFC 3339 timestamps, empty fields omitted, the HMAC over the
uncompressed JSON, gzip at or above 1024 bytes.

Each golden is <name>.json: {"path", "headers", "body_base64", "expect"}, where "expect"
holds values computed here from the inputs, independently of the Go code under test.
"""

import asyncio
import base64
import gzip
import hashlib
import hmac
import json
import os
import sys
import types
from datetime import datetime, timedelta, timezone
from uuid import UUID

SRC = os.environ.get("GUARD_AGENT_SRC")
if not SRC:
    sys.exit("set GUARD_AGENT_SRC to a guard-agent checkout")
sys.path.insert(0, SRC)

SIGNING_SECRET = "studio-test-signing-secret"
# base64url of the 32 bytes 0x00..0x1f, with padding, as a project key is configured.
ENCRYPTION_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
API_KEY = "vgl_test_ingest_key_0123456789"
INSTALL_ID = "3f0c8a52-6a8e-4d0e-9d51-2b7f6c1e4a90"

# --- a recording stand-in for httpx -------------------------------------------------
RECORDED = []


class _Response:
    def __init__(self, status_code, url):
        self.status_code = status_code
        self.url = url
        self.headers = {}
        self.text = '{"success": true, "errors": []}'

    def json(self):
        return json.loads(self.text)


class _AsyncClient:
    def __init__(self, headers=None, **kwargs):
        self.headers = dict(headers or {})
        self.is_closed = False

    async def post(self, url, content=None, headers=None):
        h = dict(self.headers)
        h.update(headers or {})
        RECORDED.append({"url": url, "headers": h, "body": content})
        return _Response(201, url)

    async def get(self, url):
        raise AssertionError("no GET expected")

    async def aclose(self):
        self.is_closed = True


httpx = types.ModuleType("httpx")
httpx.AsyncClient = _AsyncClient
httpx.Response = _Response
httpx.HTTPError = type("HTTPError", (Exception,), {})
httpx.Timeout = lambda **kw: kw
httpx.Limits = lambda **kw: kw
sys.modules["httpx"] = httpx

from guard_agent import transport as transport_mod  # noqa: E402
from guard_agent._version import __version__ as AGENT_VERSION  # noqa: E402
from guard_agent.models import (  # noqa: E402
    AgentConfig,
    AgentStatus,
    SecurityEvent,
    SecurityMetric,
)
from guard_agent.transport import HTTPTransport  # noqa: E402

# Fixed batch ids and creation times, so the goldens are reproducible apart from the
# random GCM nonces.
_batch_ids = iter(f"1777638896{i:03d}-{i:08x}" for i in range(1, 100))
transport_mod.generate_batch_id = lambda: next(_batch_ids)
CREATED_AT = datetime(2026, 5, 1, 12, 35, 0, 250000, tzinfo=timezone.utc)
transport_mod.get_current_timestamp = lambda: CREATED_AT

T0 = datetime(2026, 5, 1, 12, 34, 56, 123456, tzinfo=timezone.utc)
T_WHOLE = datetime(2026, 5, 1, 12, 34, 56, tzinfo=timezone.utc)  # microsecond 0


def events_small():
    return [
        SecurityEvent(
            idempotency_key=UUID("0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e01"),
            timestamp=T0,
            event_type="penetration_attempt",
            ip_address="203.0.113.7",
            country="DE",
            user_agent="sqlmap/1.8",
            action_taken="request_blocked",
            reason="SQL injection in query",
            endpoint="/search",
            method="GET",
            status_code=403,
            response_time=0.0042,
            metadata={
                "request_count": 3,
                "passive_mode": False,
                "guard.threat_score": 90,
                "authorization": "[REDACTED]",
            },
            # extra="allow": a field the schema does not name, which Studio keeps.
            trace_origin="edge-eu-1",
        ),
        SecurityEvent(
            idempotency_key=UUID("0b7e5b9e-3f4a-4c1e-9a77-5d2a3c4b1e02"),
            timestamp=T_WHOLE,
            event_type="dynamic_rule_applied",
            ip_address="system",
            action_taken="rules_updated",
            reason="Applied dynamic rules vigil v3",
            metadata={"rule_id": "vigil", "version": 3, "ip_bans": 2},
        ),
    ]


def events_large(n=12):
    out = []
    for i in range(n):
        out.append(
            SecurityEvent(
                idempotency_key=UUID(f"1c2d3e4f-0000-4000-8000-{i:012x}"),
                timestamp=T0 + timedelta(seconds=i, microseconds=i),
                event_type="rate_limited" if i % 2 else "pattern_detected",
                ip_address=f"198.51.100.{i + 1}",
                country="US",
                user_agent="Mozilla/5.0 (X11; Linux x86_64) python-requests/2.32",
                action_taken="logged_only" if i % 3 == 0 else "request_blocked",
                reason="Rate limit exceeded" if i % 2 else "XSS pattern in body",
                endpoint=f"/api/items/{i}",
                method="POST",
                status_code=429 if i % 2 else 403,
                metadata={
                    "pattern": "<script",
                    "content_preview": "x" * 80,
                    "threat_score": 0.8,
                    "guard.threat_score": 20 if i % 2 else 50,
                },
            )
        )
    return out


def metrics(n_requests):
    out = []
    for i in range(n_requests):
        ts = T0 + timedelta(milliseconds=10 * i)
        tags = {"endpoint": f"/api/items/{i}", "method": "GET", "status": "200"}
        out.append(SecurityMetric(timestamp=ts, metric_type="response_time", value=0.0125 + i / 1000, tags=tags))
        out.append(SecurityMetric(timestamp=ts, metric_type="request_count", value=1.0,
                                  tags={"endpoint": tags["endpoint"], "method": "GET"}))
    out.append(SecurityMetric(timestamp=T_WHOLE, metric_type="error_rate", value=1.0,
                              endpoint="/login", tags={"endpoint": "/login", "method": "POST", "status": "401"}))
    return out


def iso_utc(dt):
    """RFC 3339 in UTC with nanoseconds trimmed as Go's RFC3339Nano writes them."""
    dt = dt.astimezone(timezone.utc)
    s = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        s += ("." + f"{dt.microsecond:06d}").rstrip("0")
    return s + "Z"


def expect_events(evs):
    out = []
    for e in evs:
        d = e.model_dump()
        out.append({
            "idempotency_key": str(e.idempotency_key),
            "timestamp": iso_utc(e.timestamp),
            "event_type": e.event_type,
            "ip_address": e.ip_address,
            "country": e.country or "",
            "action_taken": e.action_taken,
            "endpoint": e.endpoint or "",
            "method": e.method or "",
            "status_code": e.status_code,
            "extra": sorted(k for k in d if k not in SecurityEvent.model_fields),
            "metadata_keys": sorted(e.metadata),
        })
    return out


def expect_metrics(ms):
    return [{"timestamp": iso_utc(m.timestamp), "metric_type": m.metric_type,
             "value": m.value, "endpoint": m.endpoint or "", "tags": m.tags} for m in ms]


def write(name, rec, expect):
    path = rec["url"].split("://", 1)[1]
    path = path[path.index("/"):]
    doc = {
        "path": path,
        "headers": rec["headers"],
        "body_base64": base64.b64encode(rec["body"]).decode(),
        "expect": expect,
    }
    with open(f"{name}.json", "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")


def transport(**kw):
    cfg = AgentConfig(api_key=API_KEY, endpoint="https://studio.example",
                      project_id="shop", install_id=INSTALL_ID, guard_version="8.1.2", **kw)
    return HTTPTransport(cfg)


async def one(name, coro, expect):
    RECORDED.clear()
    ok = await coro
    assert ok, name
    assert len(RECORDED) == 1, (name, len(RECORDED))
    write(name, RECORDED[0], expect)
    return RECORDED[0]


async def python_goldens():
    plain = transport()
    # compression_enabled=False: the two events serialise to more than the 1024-byte
    # gzip threshold, and this golden is the uncompressed form.
    nogzip = transport(compression_enabled=False)
    signed = transport(payload_signing_secret=SIGNING_SECRET)
    enc = transport(payload_signing_secret=SIGNING_SECRET, project_encryption_key=ENCRYPTION_KEY)

    evs = events_small()
    r = await one("python_events_plain", nogzip.send_events(evs),
                  {"gzip": False, "signed": None, "events": expect_events(evs), "metrics": [],
                   "batch_id": "1777638896001-00000001", "created_at": iso_utc(CREATED_AT)})
    assert "Content-Encoding" not in r["headers"]

    evs = events_large()
    r = await one("python_events_gzip_signed", signed.send_events(evs),
                  {"gzip": True, "signed": "wire", "events": expect_events(evs), "metrics": [],
                   "batch_id": "1777638896002-00000002", "created_at": iso_utc(CREATED_AT)})
    assert r["headers"].get("Content-Encoding") == "gzip"

    ms = metrics(10)
    r = await one("python_metrics_gzip", plain.send_metrics(ms),
                  {"gzip": True, "signed": None, "events": [], "metrics": expect_metrics(ms),
                   "batch_id": "1777638896003-00000003", "created_at": iso_utc(CREATED_AT)})
    assert r["headers"].get("Content-Encoding") == "gzip"

    ms = metrics(1)
    r = await one("python_metrics_plain_signed", signed.send_metrics(ms),
                  {"gzip": False, "signed": "wire", "events": [], "metrics": expect_metrics(ms),
                   "batch_id": "1777638896004-00000004", "created_at": iso_utc(CREATED_AT)})
    assert "Content-Encoding" not in r["headers"]

    evs = events_small()
    await one("python_encrypted_events", enc.send_events(evs),
              {"signed": "wire", "events": expect_events(evs), "metrics": [],
               "batch_id": "1777638896005-00000005"})

    ms = metrics(10)
    await one("python_encrypted_metrics", enc.send_metrics(ms),
              {"signed": "wire", "events": [], "metrics": expect_metrics(ms),
               "batch_id": "1777638896006-00000006"})

    st = AgentStatus(timestamp=T0, status="degraded", uptime=3600.5, events_sent=1200,
                     events_failed=3, buffer_size=91, last_flush=T_WHOLE,
                     errors=["Circuit breaker is OPEN"])
    await one("python_status", signed.send_status(st),
              {"signed": "wire", "timestamp": iso_utc(T0), "status": "degraded",
               "uptime": 3600.5, "events_sent": 1200, "events_failed": 3, "buffer_size": 91,
               "last_flush": iso_utc(T_WHOLE), "errors": ["Circuit breaker is OPEN"]})


def go_goldens():
    """guard-agent-go's requests, built per the reference (it cannot run here)."""
    def ev(i):
        return {  # field order and omitempty as the Go agent's struct writes them
            "timestamp": iso_utc(T0 + timedelta(seconds=i)),
            "event_type": "ip_banned",
            "idempotency_key": f"9a8b7c6d-0000-4000-8000-{i:012x}",
            "ip_address": f"192.0.2.{i + 1}",
            "action_taken": "banned",
            "reason": "Too many suspicious requests",
            "endpoint": "/wp-login.php",
            "method": "GET",
            "status_code": 403,
            "metadata": {"duration": 3600},
        }
    evs = [ev(i) for i in range(8)]
    batch = {
        "project_id": "shop",
        "events": evs,  # "metrics" omitted: empty
        "batch_id": "1777638896100-0a0b0c0d",
        "created_at": "2026-05-01T12:35:00.25Z",
        "compressed": False,
        "agent_version": "0.3.0",
        "guard_core_version": "0.9.0",
    }
    raw = json.dumps(batch, separators=(",", ":")).encode()
    assert len(raw) >= 1024
    body = gzip.compress(raw)
    sig = "v1=" + hmac.new(SIGNING_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {
        "User-Agent": "guard-agent-go/0.3.0",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "X-API-Key": API_KEY,
        "X-Agent-Install-Id": INSTALL_ID,
        "X-Project-Id": "shop",
        "X-Payload-Signature": sig,
    }
    expect = {
        "gzip": True, "signed": "json", "metrics": [],
        "batch_id": batch["batch_id"], "created_at": "2026-05-01T12:35:00.25Z",
        "events": [{
            "idempotency_key": e["idempotency_key"], "timestamp": e["timestamp"],
            "event_type": e["event_type"], "ip_address": e["ip_address"], "country": "",
            "action_taken": e["action_taken"], "endpoint": e["endpoint"], "method": e["method"],
            "status_code": e["status_code"], "extra": [], "metadata_keys": ["duration"],
        } for e in evs],
    }
    write("go_events_gzip_signed", {"url": "https://studio.example/api/v1/events",
                                    "headers": headers, "body": body}, expect)

    status = {"timestamp": "2026-05-01T12:34:56Z", "status": "healthy", "uptime": 12.5,
              "events_sent": 8, "events_failed": 0, "buffer_size": 0}
    raw = json.dumps(status, separators=(",", ":")).encode()
    headers = {k: v for k, v in headers.items() if k != "Content-Encoding"}
    headers["X-Payload-Signature"] = "v1=" + hmac.new(SIGNING_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    write("go_status", {"url": "https://studio.example/api/v1/status", "headers": headers, "body": raw},
          {"signed": "wire", "timestamp": "2026-05-01T12:34:56Z", "status": "healthy", "uptime": 12.5,
           "events_sent": 8, "events_failed": 0, "buffer_size": 0, "last_flush": None, "errors": []})


def check_rules():
    """Validate the Go-rendered rules documents with the agent's own pydantic model,
    as transport.fetch_dynamic_rules does (DynamicRules(**response_data))."""
    import glob

    from guard_agent.models import DynamicRules

    for f in sorted(glob.glob("rules_*.json")):
        data = json.load(open(f))
        rules = DynamicRules(**data)
        assert rules.rule_id == data["rule_id"] and rules.version == data["version"], f
        assert rules.ip_blacklist == data["ip_blacklist"], f
        assert rules.endpoint_rate_limits == {k: tuple(v) for k, v in data["endpoint_rate_limits"].items()}, f
        assert rules.timestamp.tzinfo is not None, f
        print("valid DynamicRules:", f)


if __name__ == "__main__":
    print("guard-agent", AGENT_VERSION)
    if sys.argv[1:] == ["--check-rules"]:
        check_rules()
        sys.exit(0)
    asyncio.run(python_goldens())
    go_goldens()
    check_rules()
