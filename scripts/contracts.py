#!/usr/bin/env python3
"""The contracts: docs/openapi.json and docs/asyncapi.json against the server.

  contracts.py sync --dump BIN [--write]
      The schemas of what the server sends come from its described types
      (BIN is build/<preset>/tools/tally-contracts). Checks that the documents
      hold them, every operation has an operationId, its error answers and
      its headers (exit 1 naming what differs); --write puts them in.

  contracts.py validate --log DIR
      Validates every HTTP answer and WebSocket message recorded in DIR
      (TALLY_CONTRACT_LOG, tests/support/http_client.cc and ws_client.cc)
      against the documents, strictly: a field the document does not name
      is an error.

  contracts.py run --dump BIN --tests BIN [--filter F]
      Runs the integration tests with recording on, then validate.
"""
import argparse
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPENAPI = os.path.join(ROOT, "docs", "openapi.json")
ASYNCAPI = os.path.join(ROOT, "docs", "asyncapi.json")
METHODS = ("get", "post", "put", "patch", "delete")
# Reads of one resource: they answer an ETag and 304 (gateway/api.cc).
TAGGED = {"/v1/sessions/{id}", "/v1/customers/{id}", "/v1/resources/{id}",
          "/v1/inventory/{item_id}", "/v1/invoices/{id}", "/v1/webhooks/{id}", "/v1/settings"}
# Writes that are not one command (no Tally-Position, no ETag).
NOT_COMMANDS = {("post", "/v1/admin/clock"), ("post", "/v1/sessions/bulk")}


def load(path):
    with open(path) as f:
        return json.load(f)


def dump(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")


def generated(dump_bin):
    out = subprocess.run([dump_bin], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


# ---- sync ----------------------------------------------------------------

def problem(desc, headers=None):
    r = {"description": desc,
         "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    if headers:
        r["headers"] = headers
    return r


def hdr(name):
    return {"$ref": "#/components/headers/" + name}


HEADERS = {
    "TallyPosition": {"description": "The log position of the command's last event: send it as "
                      "Tally-Min-Position to read your write.", "schema": {"type": "string",
                      "pattern": "^[0-9]+:[0-9]+$"}},
    "ETag": {"description": "The resource's version as a strong entity tag (\"3\"); send it in "
             "If-Match (a write) or If-None-Match (a read: 304 if unchanged).",
             "schema": {"type": "string"}},
    "TallyServerTime": {"description": "The server's clock (RFC 3339), on every answer: running "
                        "costs tick from it.", "schema": {"type": "string", "format": "date-time"}},
    "RetryAfter": {"description": "Seconds to wait before retrying (503).",
                   "schema": {"type": "integer"}},
    "Allow": {"description": "On 405: the methods the path takes.", "schema": {"type": "string"}},
    "IdempotentReplayed": {"description": "true when the answer is the stored one of an earlier "
                           "request with the same Idempotency-Key.", "schema": {"const": "true"}},
}

RESPONSES = {
    "BadRequest": problem("invalid_request: a field, parameter or header is not valid (the "
                          "problem names it)"),
    "Unauthorized": problem("unauthorized: no token, or not a valid one"),
    "Forbidden": problem("forbidden or feature_disabled: the caller's role may not do this"),
    "NotFound": problem("not_found: the resource does not exist (or is not the caller's)"),
    "Conflict": problem("the state does not allow it (invalid_state, insufficient_stock, "
                        "stock_picked, nothing_due, overpayment: a payment beyond what is left "
                        "to pay, the detail says what is left; wrong_kind: a command the "
                        "session's kind does not take, such as items on an appointment; "
                        "already_exists, already_invoiced, attended, request_in_progress, ...)"),
    "PreconditionFailed": problem("version_conflict: If-Match does not name the current version"),
    "UnsupportedMediaType": problem("unsupported_media_type: the body is not JSON in UTF-8 "
                                    "(Content-Type application/json or application/*+json, "
                                    "charset utf-8 if one is named; none is taken as JSON)"),
    "Unprocessable": problem("a business rule refuses it (amount_too_large: an amount or a total "
                             "past 10^12 cents, the problem names the field; empty_cart, "
                             "too_early, too_late, idempotency_key_reused)"),
    "Unavailable": problem("unavailable, outcome_unknown or projection_lagging: retry (a tenant "
                           "stopped at a record of the log that cannot be read stays unavailable "
                           "until an operator repairs it: docs/operations.md)",
                           {"Retry-After": hdr("RetryAfter")}),
    "NotModified": {"description": "Not modified: If-None-Match names the current version",
                    "headers": {"ETag": hdr("ETag"), "Tally-Server-Time": hdr("TallyServerTime")}},
}


def op_id(method, path):
    """getSession, listSessions, endSession, ... from the method and path."""
    segs = [s for s in path.strip("/").split("/") if s != "v1"]
    words = []
    for s in segs:
        if s.startswith("{"):
            continue
        words.append("".join(w.capitalize() for w in re.split(r"[-_.]", s)))
    last_param = segs[-1].startswith("{") if segs else False
    name = "".join(words)
    if method == "get":
        return ("get" if last_param else "list") + name
    if method == "delete":
        return "delete" + name
    if method == "put":
        return "put" + name
    if method == "patch":
        return "patch" + name
    return "post" + name


def singular_ok(ids):
    return len(ids) == len(set(ids))


def errors_for(method, path, op):
    secured = bool(op.get("security", [{"bearer": []}])) and path not in (
        "/healthz", "/readyz", "/metrics", "/v1/openapi.json", "/v1/asyncapi.json") and \
        not path.startswith("/console")
    codes = {"400": "BadRequest"}
    if secured:
        codes["401"] = "Unauthorized"
        codes["403"] = "Forbidden"
    if "{" in path:
        codes["404"] = "NotFound"
    if method != "get" and (method, path) not in NOT_COMMANDS and path.startswith("/v1/") and secured:
        codes.update({"409": "Conflict", "412": "PreconditionFailed", "422": "Unprocessable"})
    if "requestBody" in op:
        codes["415"] = "UnsupportedMediaType"
    if path.startswith("/v1/") or path == "/readyz":
        codes["503"] = "Unavailable"
    if method == "get" and path in TAGGED:
        codes["304"] = "NotModified"
    return codes


# Fields written beside a described type's own, by hand (their schema stays
# as the document has it): the rates are decimals with four places, which
# base/json.h does not write (projections/queries.cc).
EXTRA_FIELDS = {
    "AnalyticsSummary": ["completion_rate", "no_show_rate", "payment_success_rate",
                         "average_rating", "ratings"],
    "CustomerStats": ["average_rating", "ratings"],
}


def with_descriptions(new, old, name=""):
    """The generated schema `new`, keeping the words the document had for it
    and its fields (the types say what is sent, people say what it means)."""
    new = copy.deepcopy(new)
    if not isinstance(old, dict):
        return new
    if "description" in old:
        new["description"] = old["description"]
    for field, schema in new.get("properties", {}).items():
        was = old.get("properties", {}).get(field)
        if isinstance(was, dict) and "description" in was:
            schema["description"] = was["description"]
        # A string the type does not say more of may be a time the document
        # knows it to be.
        if isinstance(was, dict) and schema.get("type") == "string" and "format" in was \
                and "format" not in schema:
            schema["format"] = was["format"]
    for field in EXTRA_FIELDS.get(name, []):
        if field in old.get("properties", {}):
            new["properties"][field] = old["properties"][field]
            new["required"].append(field)
    return new


def put_schemas(schemas, generated_schemas):
    for name, schema in generated_schemas.items():
        schemas[name] = with_descriptions(schema, schemas.get(name), name)


def nullable(schema):
    """The schema, also taking null (an optional field: base/json.h reads
    absent and null alike)."""
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    for key in ("oneOf", "anyOf"):
        if key in schema:
            if {"type": "null"} not in schema[key]:
                schema[key].append({"type": "null"})
            return schema
    t = schema.get("type")
    if t is None:
        return schema
    types = t if isinstance(t, list) else [t]
    if "null" not in types:
        schema["type"] = types + ["null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"].append(None)
    return schema


def optional_takes_null(schema):
    """In a request body, every field that is not required is optional, and
    takes null for absent (a missing non-optional field is 400 "is
    required"): says so, at every depth."""
    if not isinstance(schema, dict):
        return schema
    for key in ("oneOf", "anyOf", "allOf"):
        for s in schema.get(key, []):
            optional_takes_null(s)
    if "items" in schema:
        optional_takes_null(schema["items"])
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    for name, prop in list(props.items()):
        optional_takes_null(prop)
        if name not in required:
            props[name] = nullable(prop)
    return schema


def shape_openapi(doc, gen, asyncapi):
    doc = copy.deepcopy(doc)
    comps = doc.setdefault("components", {})
    schemas = comps.setdefault("schemas", {})
    put_schemas(schemas, gen["openapi"])
    # The envelope is asyncapi.json's, written once; the data of each type
    # is described there.
    envelope = copy.deepcopy(asyncapi["components"]["schemas"]["CloudEvent"])
    envelope.pop("allOf", None)
    envelope["description"] = ("A CloudEvent (structured mode). The schema of each type's data: "
                               "docs/asyncapi.json, served at /v1/asyncapi.json.")
    schemas["CloudEvent"] = envelope
    comps["headers"] = HEADERS
    comps["responses"] = RESPONSES
    default = problem("Problem details (RFC 9457)", {"Allow": hdr("Allow"),
                                                     "Retry-After": hdr("RetryAfter")})
    for path, ops in doc["paths"].items():
        for method in METHODS:
            op = ops.get(method)
            if not op:
                continue
            op.setdefault("operationId", op_id(method, path))
            for media in op.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    optional_takes_null(media["schema"])
            responses = op["responses"]
            for code, ref in errors_for(method, path, op).items():
                responses[code] = {"$ref": "#/components/responses/" + ref}
            responses["default"] = default
            for code, r in responses.items():
                if not code.startswith("2") or "$ref" in r:
                    continue
                h = r.setdefault("headers", {})
                h["Tally-Server-Time"] = hdr("TallyServerTime")
                if method != "get" and (method, path) not in NOT_COMMANDS and path.startswith("/v1/"):
                    h["Tally-Position"] = hdr("TallyPosition")
                    h["ETag"] = hdr("ETag")
                    h["Idempotent-Replayed"] = hdr("IdempotentReplayed")
                if method == "get" and path in TAGGED:
                    h["ETag"] = hdr("ETag")
            if method == "get" and path in TAGGED:
                params = op.setdefault("parameters", [])
                if {"$ref": "#/components/parameters/IfNoneMatch"} not in params:
                    params.append({"$ref": "#/components/parameters/IfNoneMatch"})
    comps.setdefault("parameters", {})["IfNoneMatch"] = {
        "name": "If-None-Match", "in": "header", "schema": {"type": "string"},
        "description": "an ETag this client holds: 304 while it is current"}
    return doc


def shape_asyncapi(doc, gen):
    doc = copy.deepcopy(doc)
    comps = doc.setdefault("components", {})
    schemas = comps.setdefault("schemas", {})
    put_schemas(schemas, gen["asyncapi"])
    types = list(gen["event_types"].keys())
    ce = schemas["CloudEvent"]
    ce["properties"]["type"] = {"type": "string", "enum": types}
    ce["allOf"] = [{"if": {"properties": {"type": {"const": t}}},
                    "then": {"properties": {"data": gen["event_types"][t]}}} for t in types]
    messages = comps.setdefault("messages", {})
    for t in types:
        messages[t] = {
            "name": t,
            "title": t,
            "contentType": "application/cloudevents+json",
            "payload": {"allOf": [{"$ref": "#/components/schemas/CloudEvent"},
                                  {"type": "object", "properties": {"type": {"const": t}}}]},
        }
    for channel in ("events", "webhook"):
        ch = doc["channels"][channel]["messages"]
        for t in types:
            ch[t] = {"$ref": "#/components/messages/" + t}
    return doc


def unrequired(doc):
    """Where an object schema of an answer lists properties but not which are
    always sent."""
    out = []

    def walk(s, where):
        if isinstance(s, dict):
            if "properties" in s and "required" not in s:
                out.append(where)
            for k, v in s.items():
                walk(v, where + "/" + k)
        elif isinstance(s, list):
            for i, v in enumerate(s):
                walk(v, where + "/" + str(i))
    for path, ops in doc["paths"].items():
        for method in METHODS:
            if method in ops:
                walk(ops[method].get("responses", {}), f"{method.upper()} {path}")
    walk(doc["components"]["schemas"], "#/components/schemas")
    return out


def sync(args):
    gen = generated(args.dump)
    ok = True
    shaped_asyncapi = shape_asyncapi(load(ASYNCAPI), gen)
    for path, shape in ((ASYNCAPI, lambda d, g: shaped_asyncapi),
                        (OPENAPI, lambda d, g: shape_openapi(d, g, shaped_asyncapi))):
        doc = load(path)
        want = shape(doc, gen)
        if path == OPENAPI:
            ids = [op["operationId"] for ops in want["paths"].values()
                   for m, op in ops.items() if m in METHODS]
            if not singular_ok(ids):
                print("operationIds are not unique:", sorted(i for i in ids if ids.count(i) > 1))
                ok = False
        if path == OPENAPI:
            for where in unrequired(want):
                print(f"{where}: an answer's object schema without `required`")
                ok = False
        if want == doc:
            continue
        if args.write:
            dump(path, want)
            print("wrote", os.path.relpath(path, ROOT))
            continue
        ok = False
        for key in sorted(set(json.dumps(want, sort_keys=True).split('"')) -
                          set(json.dumps(doc, sort_keys=True).split('"')))[:20]:
            pass
        print(f"{os.path.relpath(path, ROOT)} is not what the server's types say; run "
              f"scripts/contracts.py sync --dump {args.dump} --write and commit it")
        for section in ("components", "paths", "channels"):
            if want.get(section) != doc.get(section):
                sub_w, sub_d = want.get(section, {}), doc.get(section, {})
                for k in sorted(set(sub_w) | set(sub_d)):
                    if sub_w.get(k) != sub_d.get(k):
                        inner = ""
                        if isinstance(sub_w.get(k), dict) and isinstance(sub_d.get(k), dict):
                            diff = [n for n in sorted(set(sub_w[k]) | set(sub_d[k]))
                                    if sub_w[k].get(n) != sub_d[k].get(n)]
                            inner = ": " + ", ".join(diff[:10])
                        print(f"  differs: {section}.{k}{inner}")
    return 0 if ok else 1


# ---- validate ------------------------------------------------------------

def strict(schema, close=True):
    """A copy in which every object schema with properties allows no others
    (except the parts of allOf and the conditions of if/then, which only add
    to their parent)."""
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k == "allOf":  # its parts add to one object: none closes it alone
                out[k] = [strict(part, False) for part in v]
            else:
                out[k] = strict(v, k not in ("if", "then", "else"))
        if close and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def template_regex(path):
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


def validate(args):
    import jsonschema

    # Every $ref absolute: both jsonschema APIs then resolve them alike.
    openapi = rebase(strict(load(OPENAPI)), "urn:openapi")
    asyncapi = rebase(strict(load(ASYNCAPI)), "urn:asyncapi")
    documents = {"urn:openapi": openapi, "urn:asyncapi": asyncapi}
    try:  # jsonschema 4.18 and later
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
        registry = Registry().with_resources([
            (uri, Resource.from_contents(doc, default_specification=DRAFT202012))
            for uri, doc in documents.items()])

        def make(schema):
            return jsonschema.Draft202012Validator(schema, registry=registry,
                                                   format_checker=jsonschema.FormatChecker())
    except ImportError:  # Debian 12's 4.10
        def make(schema):
            resolver = jsonschema.RefResolver("urn:check", schema, store=dict(documents))
            return jsonschema.Draft202012Validator(schema, resolver=resolver,
                                                   format_checker=jsonschema.FormatChecker())

    def validator(base, schema):
        return make({"$ref": base + "#/" + schema})

    routes = []
    for path, ops in openapi["paths"].items():
        routes.append((template_regex(path), path, ops))
    # Literal paths before templates (/v1/sessions/active before {id}).
    routes.sort(key=lambda r: r[1].count("{"))

    def find(method, path):
        for rx, template, ops in routes:
            if rx.match(path) and method in ops:
                return template, ops[method]
        return None, None

    cloud_event = validator("urn:asyncapi", "components/schemas/CloudEvent")
    ws_messages = {}
    for name, m in asyncapi["components"]["messages"].items():
        ws_messages[name] = m
    failures, checked, events = [], 0, 0
    ws_kinds = {}
    seen_ops = set()

    def check_event(ev, where):
        nonlocal events
        errs = sorted(cloud_event.iter_errors(ev), key=lambda e: list(e.absolute_path))
        events += 1
        for e in errs[:3]:
            failures.append(f"{where}: event {ev.get('type')}: {'/'.join(map(str, e.absolute_path))}: {e.message}")

    for file in sorted(glob.glob(os.path.join(args.log, "*.ndjson"))):
        with open(file) as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("kind") == "ws":
                    msg = rec["text"]
                    try:
                        m = json.loads(msg)
                    except ValueError:
                        failures.append(f"ws: not JSON: {msg[:200]}")
                        continue
                    if not isinstance(m, dict):
                        failures.append(f"ws: not an object: {msg[:200]}")
                        continue
                    # Which message of the stream channel it is (asyncapi.json).
                    if "op" in m:
                        kind = "control"
                    elif m.get("type") == "alert":
                        kind = "alert"
                    elif str(m.get("type", "")).startswith("picklist."):
                        kind = "picklistLine"
                    elif isinstance(m.get("event"), dict):
                        kind = "event"
                        check_event(m["event"], "ws " + str(m.get("channel")))
                    else:
                        failures.append(f"ws: a message asyncapi.json does not describe: {msg[:200]}")
                        continue
                    ws_kinds[kind] = ws_kinds.get(kind, 0) + 1
                    v = make(asyncapi["components"]["messages"][kind]["payload"])
                    for e in sorted(v.iter_errors(m), key=lambda e: list(e.absolute_path))[:3]:
                        failures.append(f"ws {kind}: {'/'.join(map(str, e.absolute_path)) or '(message)'}: "
                                        f"{e.message[:300]}")
                    continue
                method = rec["method"].lower()
                if method in ("head", "options"):
                    continue
                path = rec["target"].split("?")[0]
                status = str(rec["status"])
                template, op = find(method, path)
                if op is None:
                    if status not in ("404", "405", "400", "413"):
                        failures.append(f"{rec['method']} {path} -> {status}: no such operation in openapi.json")
                    continue
                seen_ops.add((method, template))
                responses = op["responses"]
                r = responses.get(status) or responses.get(status[0] + "XX") or responses.get("default")
                if r is None:
                    failures.append(f"{rec['method']} {template} -> {status}: not a documented answer")
                    continue
                if "$ref" in r:
                    r = openapi["components"]["responses"][r["$ref"].split("/")[-1]]
                ctype = (rec.get("content_type") or "").split(";")[0].strip()
                content = r.get("content", {})
                if not rec.get("body"):
                    continue
                if ctype not in content:
                    failures.append(f"{rec['method']} {template} -> {status}: {ctype} is not documented")
                    continue
                schema = content[ctype].get("schema")
                if schema is None:
                    continue
                if ctype == "application/x-ndjson":
                    for row in rec["body"].splitlines():
                        if row.strip():
                            check_event(json.loads(row), f"GET {template}")
                    continue
                if not ctype.endswith("json"):
                    continue
                try:
                    body = json.loads(rec["body"])
                except ValueError:
                    failures.append(f"{rec['method']} {template} -> {status}: the body is not JSON")
                    continue
                v = make(rebase(schema))
                checked += 1
                for e in sorted(v.iter_errors(body), key=lambda e: list(e.absolute_path))[:3]:
                    failures.append(f"{rec['method']} {template} -> {status}: "
                                    f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:300]}")
                if template.endswith("/events") and status == "200" and isinstance(body, dict):
                    for item in body.get("items", []):
                        if isinstance(item, dict) and "specversion" in item:
                            check_event(item, f"GET {template}")
    unique = sorted(set(failures))
    for f in unique[:60]:
        print("FAIL", f)
    all_ops = {(m, p) for p, ops in openapi["paths"].items() for m in ops if m in METHODS}
    print(f"{checked} answers and {events} events validated; {len(seen_ops)} of {len(all_ops)} "
          f"operations seen; WebSocket messages by kind: {ws_kinds}; {len(unique)} distinct failures")
    return 1 if unique or checked == 0 else 0


def rebase(schema, base="urn:openapi"):
    """`schema` with its local $refs ("#/...") pointing into document `base`."""
    if isinstance(schema, dict):
        return {k: (base + v if k == "$ref" and isinstance(v, str) and v.startswith("#")
                    else rebase(v, base)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [rebase(v, base) for v in schema]
    return schema


def run(args):
    with tempfile.TemporaryDirectory(prefix="tally-contracts-") as log:
        env = dict(os.environ, TALLY_CONTRACT_LOG=log)
        cmd = [args.tests]
        if args.filter:
            cmd.append("--gtest_filter=" + args.filter)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        tail = r.stdout.strip().splitlines()[-3:]
        print("\n".join(tail))
        if r.returncode != 0:
            print(r.stdout[-5000:])
            print("the integration tests failed; see above")
            return 1
        args.log = log
        return validate(args)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sync")
    s.add_argument("--dump", required=True)
    s.add_argument("--write", action="store_true")
    v = sub.add_parser("validate")
    v.add_argument("--log", required=True)
    r = sub.add_parser("run")
    r.add_argument("--tests", required=True)
    r.add_argument("--filter", default="")
    args = p.parse_args()
    return {"sync": sync, "validate": validate, "run": run}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
