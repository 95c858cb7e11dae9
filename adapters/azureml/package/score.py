"""Scoring script for an Azure ML managed online endpoint (azureml-inference-server-http).

It serves the run folder that adapters/azureml/package.ts packages, and must answer exactly what
the Node scorer (adapters/scoring/onnx-scorer.ts) answers for the same texts: the same text
normalisation (normalizeText in domain/dataset.ts), the same truncation that keeps </s>, the same
batching and padding, softmax in float64. test/integration/azureml-score.test.ts holds the two equal.

With MLC_REQUEST_LOG_URL set, every prediction is also appended, one JSON line per text, to an
append blob (what Azure ML's data collector does), for monitoring to read back
(adapters/azureml/request-log.ts). Logging runs on a background thread and never fails a request.
"""
from __future__ import annotations

import atexit
import json
import logging
import math
import os
import queue
import re
import socket
import threading
import time
import unicodedata
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

# The module the server aliases as azureml.contrib.services.aml_request (the name in Azure's
# docs); importing it by its own name also works outside the server (tests call run() directly).
from azureml_inference_server_http.api.aml_request import AMLRequest, rawhttp
from azureml_inference_server_http.api.aml_response import AMLResponse

logger = logging.getLogger("mlc.score")

SERVING_FILE = "serving.json"
SERVING_FORMAT = "mlc-serving/1"
# The only normalisation this script knows; package.ts writes its name into serving.json.
NORMALIZATION = "nfc-collapse-whitespace-drop-zwsp-fold-thai-repeats/2"
# The local endpoint's limits (adapters/endpoint/server.ts), so a client sees one contract.
MAX_BODY_BYTES = 1024 * 1024
MAX_TEXTS = 256
MAX_TEXT_CHARS = 5000
BLANK_TEXT = "has nothing to score once whitespace and invisible characters (zero-width space, BOM) are removed; leave it out of the request"
EXPECTED_SHAPE = (
    f'expected a JSON object {{"texts": ["...", ...]}} with 1 to {MAX_TEXTS} strings of at most '
    f'{MAX_TEXT_CHARS} characters, or {{"text": "..."}}, optionally with "smoke": true'
)

# normalizeText: drop ZWSP/BOM, collapse every JavaScript \s run to one space, trim, NFC, fold repeats.
# JavaScript's \s is spelled out: Python's \s and str.strip() include other characters
# (U+001C-U+001F, U+0085) and leave out U+FEFF.
_INVISIBLE = re.compile("[\u200b\ufeff]")
_JS_SPACE = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+")


# foldThaiRepeats, character for character: laughter (555…, ๕๕๕…, ถถถ…) to "555", runs of the
# repetition mark ๆ to one against its word, any other character (or emoji with its variation
# selector or skin tone) four or more times in a row to three, digits and spaces excepted.
_LAUGHTER = re.compile("(?<![0-9\u0e50-\u0e59])(?:5{3,}|\u0e55{3,}|\u0e16{3,})(?:5+|\u0e55+|\u0e16{3,})*")
_REPETITION_MARKS = re.compile(" ?\u0e46(?: ?\u0e46)*")
_LONG_RUN = re.compile("([^0-9\u0e50-\u0e59 ](?:\ufe0f|[\U0001f3fb-\U0001f3ff])?)\\1{3,}")


def fold_thai_repeats(text: str) -> str:
    return _LONG_RUN.sub(r"\1\1\1", _REPETITION_MARKS.sub("\u0e46", _LAUGHTER.sub("555", text)))


def normalize_text(text: str) -> str:
    return fold_thai_repeats(unicodedata.normalize("NFC", _JS_SPACE.sub(" ", _INVISIBLE.sub("", text)).strip(" ")))


# What monitoring measures beyond the answer, logged with each prediction as the built-in endpoint
# logs it (domain/monitoring/features.ts TokenStats; domain/embedding-projection.ts): the text's
# token count with specials, whether maxLength cut it, how many of its tokens are <unk> or one
# character, and the pooled embedding through the same fixed random projection, draw for draw
# (mulberry32 from the same seed, Box-Muller, scaled by 1/sqrt(k)), so Azure traffic is compared
# with the reference evaluation computed in Node.
PROJECTION_SEED = 0x6D6C6331
PROJECTION_DIMENSIONS = 32


def _mulberry32(seed: int):
    a = seed & 0xFFFFFFFF

    def draw() -> float:
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        x = ((a ^ (a >> 15)) * (a | 1)) & 0xFFFFFFFF
        x ^= (x + (((x ^ (x >> 7)) * (x | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((x ^ (x >> 14)) & 0xFFFFFFFF) / 4294967296

    return draw


def projection_matrix(input_size: int, dimensions: int = PROJECTION_DIMENSIONS) -> np.ndarray:
    draw = _mulberry32(PROJECTION_SEED)
    count = input_size * dimensions
    out = np.empty(count, dtype=np.float64)
    for i in range(0, count, 2):
        radius = math.sqrt(-2 * math.log(1 - draw()))
        angle = 2 * math.pi * draw()
        out[i] = radius * math.cos(angle)
        if i + 1 < count:
            out[i + 1] = radius * math.sin(angle)
    return (out / math.sqrt(dimensions)).reshape(input_size, dimensions)


class Model:
    """A loaded run folder: labels, tokenizer, ONNX session and the settings from serving.json."""

    def __init__(self, folder: Path):
        settings = json.loads((folder / SERVING_FILE).read_text("utf-8"))
        if settings.get("format") != SERVING_FORMAT:
            raise ValueError(f"{folder / SERVING_FILE}: format {settings.get('format')!r}, expected {SERVING_FORMAT!r}")
        if settings.get("normalization") != NORMALIZATION:
            raise ValueError(f"{folder / SERVING_FILE}: normalization {settings.get('normalization')!r} is unknown to this score.py (knows {NORMALIZATION!r})")
        self.folder = folder
        self.settings = settings
        self.labels: list[str] = json.loads((folder / "labels.json").read_text("utf-8"))
        self.max_length: int = settings["maxLength"]
        self.batch_size: int = settings["batchSize"]
        self.pad_id: int = settings["padId"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.prefix, self.suffix = self._frame()
        # The ONNX file the spec chose (model.onnx, or model.int8.onnx when serving.precision is int8).
        model_file = settings.get("modelFile", "model.onnx")
        if model_file not in ("model.onnx", "model.int8.onnx"):
            raise ValueError(f"{folder / SERVING_FILE}: modelFile {model_file!r} is not model.onnx or model.int8.onnx")
        self.session = ort.InferenceSession(str(folder / model_file), providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.outputs = ["logits"] + (["embedding"] if "embedding" in {o.name for o in self.session.get_outputs()} else [])
        self.projection: np.ndarray | None = None
        self.unk_id = self.tokenizer.token_to_id("<unk>")
        self._fallback: dict[int, bool] = {}

    def _frame(self) -> tuple[list[int], list[int]]:
        # Recovered from a probe as the Node scorer does (specialFrame), and checked against the
        # frame Node found when packaging: a tokenizer that frames differently fails here, at init.
        probe = "mlc probe ทดสอบ"
        framed = self.tokenizer.encode(probe, add_special_tokens=True).ids
        bare = self.tokenizer.encode(probe, add_special_tokens=False).ids
        for p in range(len(framed) - len(bare) + 1):
            if framed[p:p + len(bare)] == bare:
                frame = (framed[:p], framed[p + len(bare):])
                break
        else:
            raise ValueError("tokenizer.json: the post-processor rewrites the text ids; not supported")
        expected = (self.settings["frame"]["prefix"], self.settings["frame"]["suffix"])
        if frame != tuple(expected):
            raise ValueError(f"tokenizer frame {frame} differs from the one recorded at packaging {expected}")
        return frame

    def is_fallback(self, token_id: int) -> bool:
        """<unk>, or a piece that decodes to one character (as the Node scorer decides it)."""
        known = self._fallback.get(token_id)
        if known is None:
            # Only spaces are trimmed, as in Node: Python's and JavaScript's ideas of whitespace differ.
            known = token_id == self.unk_id or len(self.tokenizer.decode([token_id], skip_special_tokens=False).strip(" ")) == 1
            self._fallback[token_id] = known
        return known

    def encode_with_stats(self, text: str) -> tuple[list[int], dict]:
        room = self.max_length - len(self.prefix) - len(self.suffix)
        content = self.tokenizer.encode(text, add_special_tokens=False).ids
        kept = content[:room]
        stats = {"tokens": len(kept) + len(self.prefix) + len(self.suffix), "truncated": len(content) > room,
                 "fallbackTokens": sum(1 for t in kept if self.is_fallback(t))}
        return self.prefix + kept + self.suffix, stats

    def predict_observed(self, texts: list[str]) -> list[tuple[dict, dict]]:
        """Each text's answer, and what the request log keeps beside it for monitoring."""
        out: list[tuple[dict, dict]] = []
        for start in range(0, len(texts), self.batch_size):
            encoded = [self.encode_with_stats(normalize_text(t)) for t in texts[start:start + self.batch_size]]
            rows = [ids for ids, _ in encoded]
            width = max(len(r) for r in rows)
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for i, r in enumerate(rows):
                ids[i, :len(r)] = r
                mask[i, :len(r)] = 1
            feeds = {"input_ids": ids}
            if "attention_mask" in self.inputs:
                feeds["attention_mask"] = mask
            if "token_type_ids" in self.inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            results = self.session.run(self.outputs, feeds)
            logits = results[0].astype(np.float64)
            exps = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = exps / exps.sum(axis=1, keepdims=True)
            projected = None
            if len(results) > 1:
                pooled = results[1].astype(np.float64)
                if self.projection is None or self.projection.shape[0] != pooled.shape[1]:
                    self.projection = projection_matrix(pooled.shape[1])
                projected = pooled @ self.projection
            for i, row in enumerate(probs):
                best = int(np.argmax(row))  # ties go to the earlier label, as in Node
                answer = {"label": self.labels[best], "probabilities": {l: float(p) for l, p in zip(self.labels, row)}}
                observed = dict(encoded[i][1])
                if projected is not None:
                    observed["embedding"] = [float(v) for v in projected[i]]
                out.append((answer, observed))
        return out

def find_model_folder(root: Path) -> Path:
    """Azure mounts a registered folder under AZUREML_MODEL_DIR, in a subfolder named after it."""
    if (root / SERVING_FILE).is_file():
        return root
    found = sorted(p.parent for p in root.rglob(SERVING_FILE))
    if len(found) != 1:
        problem = f"{len(found)} folders with {SERVING_FILE} ({', '.join(map(str, found))})" if found else f"no {SERVING_FILE}"
        raise FileNotFoundError(f"{problem} under AZUREML_MODEL_DIR={root}; register exactly one model folder built by adapters/azureml/package.ts")
    return found[0]


class RequestLog:
    """Appends prediction lines to <prefix>/<model>/<deployment>/<yyyy>/<mm>/<dd>/<HH>/<host>-<pid>.jsonl."""

    FLUSH_SECONDS = 1.0
    MAX_APPEND_BYTES = 4 * 1024 * 1024  # an append block's limit in every service version
    MAX_QUEUED = 100_000

    def __init__(self, url: str, model: str, deployment: str):
        self.url, self.model, self.deployment = url, model, deployment
        self.container, self.prefix = _container_client(url)
        self.queue: queue.Queue[dict] = queue.Queue(self.MAX_QUEUED)
        self.pid = -1
        self.created: set[str] = set()
        self.rollover: dict[str, int] = {}  # per hour: a blob at the 50,000-block limit continues in <name>-<n>.jsonl
        self.dropped = 0
        self.lock = threading.Lock()
        atexit.register(self.flush)

    def add(self, lines: list[dict]) -> None:
        self._ensure_thread()
        dropped = 0
        for line in lines:
            try:
                self.queue.put_nowait(line)
            except queue.Full:
                dropped += 1
        if dropped:
            self.dropped += dropped
            logger.warning("request log: %d lines dropped, %d so far (queue full: Blob too slow or unreachable)", dropped, self.dropped)

    def _ensure_thread(self) -> None:
        # Started lazily in the process that serves: gunicorn may run init() before forking.
        if self.pid != os.getpid():
            self.pid = os.getpid()
            self.created.clear()
            threading.Thread(target=self._loop, name="mlc-request-log", daemon=True).start()

    def _loop(self) -> None:
        while True:
            time.sleep(self.FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        with self.lock:
            lines: list[dict] = []
            while True:
                try:
                    lines.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            if not lines:
                return
            try:
                self._append(lines)
            except Exception as e:  # noqa: BLE001 — logging must never take the endpoint down
                logger.warning("request log: %d lines not written to %s: %s", len(lines), self.url, e)

    def _append(self, lines: list[dict]) -> None:
        by_hour: dict[str, list[bytes]] = {}
        for line in lines:
            hour = line["at"][:13]  # yyyy-mm-ddTHH, the hour the prediction was made (UTC)
            by_hour.setdefault(hour, []).append((json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))
        for hour, encoded in by_hour.items():
            block: list[bytes] = []
            size = 0
            for data in encoded:
                if block and size + len(data) > self.MAX_APPEND_BYTES:
                    self._append_block(hour, b"".join(block))
                    block, size = [], 0
                block.append(data)
                size += len(data)
            self._append_block(hour, b"".join(block))

    def _append_block(self, hour: str, block: bytes) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError, ResourceExistsError

        for _ in range(3):
            name = self._blob_name(hour)
            blob = self.container.get_blob_client(name)
            if name not in self.created:
                try:  # never truncate a blob another process (an earlier pid 1, say) began
                    blob.create_append_blob(match_condition=MatchConditions.IfMissing)
                except ResourceExistsError:
                    pass
                self.created.add(name)
            try:
                blob.append_block(block)
                return
            except HttpResponseError as e:
                if getattr(e, "error_code", None) != "BlockCountExceedsLimit":
                    raise
                self.rollover[hour] = self.rollover.get(hour, 0) + 1
        raise RuntimeError(f"append blob {name} is full and so are its rollovers")

    def _blob_name(self, hour: str) -> str:
        y, m, d, h = hour[0:4], hour[5:7], hour[8:10], hour[11:13]
        suffix = f"-{self.rollover[hour]}" if self.rollover.get(hour) else ""
        parts = [self.prefix, self.model, self.deployment, y, m, d, h, f"{socket.gethostname()}-{os.getpid()}{suffix}.jsonl"]
        return "/".join(p for p in parts if p)


def _container_client(url: str):
    """MLC_REQUEST_LOG_URL is a container URL plus a path prefix. Emulators use path-style URLs
    (http://host:port/<account>/<container>/...); Azure puts the account in the host name."""
    from azure.storage.blob import BlobServiceClient, ExponentialRetry

    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    connection_string = os.environ.get("MLC_REQUEST_LOG_CONNECTION_STRING")
    host = parts.hostname or ""
    if connection_string:
        account = dict(kv.split("=", 1) for kv in connection_string.split(";") if "=" in kv).get("AccountName")
        path_style = bool(segments) and segments[0] == account
    else:
        path_style = host == "localhost" or re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", host) is not None
    account_url = f"{parts.scheme}://{parts.netloc}" + (f"/{segments.pop(0)}" if path_style and segments else "")
    if not segments:
        raise ValueError(f"MLC_REQUEST_LOG_URL={url} names no container")
    container, prefix = segments[0], "/".join(segments[1:])
    # The default (15 s, then 18, 24...) would hold the log thread for a minute per failed append.
    retry = {"retry_policy": ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=3), "connection_timeout": 10}
    if connection_string:  # the emulator, or an account key; its BlobEndpoint names the account
        service = BlobServiceClient.from_connection_string(connection_string, **retry)
    else:
        from azure.identity import DefaultAzureCredential  # the endpoint's managed identity

        service = BlobServiceClient(account_url, credential=DefaultAzureCredential(), **retry)
    return service.get_container_client(container), prefix


_model: Model | None = None
_log: RequestLog | None = None
_identity: dict = {}


def init() -> None:
    global _model, _log, _identity
    root = Path(os.environ.get("AZUREML_MODEL_DIR", "."))
    _model = Model(find_model_folder(root))
    version = os.environ.get("MLC_MODEL_VERSION") or _model.settings.get("version")
    _identity = {
        "model": os.environ.get("MLC_MODEL_NAME") or _model.settings.get("model"),
        "version": int(version) if version is not None else None,
        "deployment": os.environ.get("MLC_DEPLOYMENT_NAME") or "default",
    }
    url = os.environ.get("MLC_REQUEST_LOG_URL")
    _log = None
    if url:
        try:
            _log = RequestLog(url, _identity["model"], _identity["deployment"])
        except Exception as e:  # noqa: BLE001 — serve unlogged rather than not at all
            logger.warning("request log: off, MLC_REQUEST_LOG_URL=%s is unusable: %s", url, e)
    logger.info("loaded %s v%s from %s (maxLength %d); request log: %s", _identity["model"], _identity["version"], _model.folder, _model.max_length, url if _log else "off")


def _reply(status: int, body: dict) -> AMLResponse:
    return AMLResponse(body, status, json_str=True)


class BadRequest(ValueError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def parse_request(raw: bytes) -> tuple[list[str], bool]:
    """The request body's texts, and whether it is a deployer's smoke test (logged as such, so
    monitoring does not count it as production traffic); raises BadRequest for the client."""
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"request body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES} (1 MiB): send fewer texts per request", 413)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadRequest(f"request body is not valid JSON ({e}); {EXPECTED_SHAPE}") from None
    smoke = isinstance(body, dict) and body.get("smoke") is True
    fields = set(body) - {"smoke"} if isinstance(body, dict) and body.get("smoke", True) is True else None
    if fields == {"text"} and isinstance(body["text"], str):
        texts = [body["text"]]
    elif fields == {"texts"} and isinstance(body["texts"], list):
        texts = body["texts"]
    else:
        raise BadRequest(f"request body has the wrong shape; {EXPECTED_SHAPE}")
    if not 1 <= len(texts) <= MAX_TEXTS:
        raise BadRequest(f"texts has {len(texts)} items; {EXPECTED_SHAPE}")
    for i, t in enumerate(texts):
        if not isinstance(t, str) or len(t) > MAX_TEXT_CHARS:
            raise BadRequest(f"texts[{i}] is not a string of at most {MAX_TEXT_CHARS} characters; {EXPECTED_SHAPE}")
        # Nothing left to judge: its answer would mean nothing and would count as traffic in
        # monitoring (the built-in endpoint refuses it in the same words).
        if not normalize_text(t):
            raise BadRequest(f"texts[{i}] {BLANK_TEXT}")
    return texts, smoke


@rawhttp
def run(request: AMLRequest) -> AMLResponse:
    request_id = request.headers.get("x-ms-request-id") or request.headers.get("x-request-id") or str(uuid.uuid4())
    if request.method != "POST":
        return _reply(405, {"error": f"/score takes POST; {EXPECTED_SHAPE}", "requestId": request_id})
    try:
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise BadRequest(f"request body is {request.content_length} bytes; the limit is {MAX_BODY_BYTES} (1 MiB): send fewer texts per request", 413)
        texts, smoke = parse_request(request.get_data())
    except BadRequest as e:
        return _reply(e.status, {"error": str(e), "requestId": request_id})
    assert _model is not None, "init() was not called"
    scored = _model.predict_observed(texts)
    predictions = [answer for answer, _ in scored]
    if _log is not None:
        try:
            at = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            _log.add([{"requestId": request_id, **_identity, "text": t, **answer, **observed, "at": at, **({"smoke": True} if smoke else {})}
                      for t, (answer, observed) in zip(texts, scored)])
        except Exception as e:  # noqa: BLE001 — the answer matters more than its log line
            logger.warning("request log: request %s not logged: %s", request_id, e)
    return _reply(200, {**_identity, "predictions": predictions, "requestId": request_id})
