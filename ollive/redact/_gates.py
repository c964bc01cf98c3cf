"""Presidio's answers without Presidio's full pass: seed scans, then recognizers on windows.

``WindowedAnalyzer(analyzer)`` returns, for any text, exactly what
``analyzer.analyze(text, "en", entities, score_threshold)`` returns (same entity types,
spans and scores), but only runs a recognizer where it could match:

1. Each recognizer has a :class:`WindowSpec`: a *seed* regex that every one of its matches
   must contain (``@`` for e-mail, ``://``/``www.``/``.com`` for URLs, a digit group for
   numbers...), whether its matches may span whitespace, how many digits a match needs,
   and how many characters of left context it reads. Seeds are scanned once per distinct
   seed (C-speed ``re`` scans); a text without seeds costs only those scans.
2. A seed selects a *window*: the whitespace-delimited run around it, or, for recognizers
   whose matches span spaces (cards, phones, IBANs, SSNs), the whole cluster of adjacent
   runs that hold digits or are short (``(``, ``-``, ``WEST``), plus the left context, plus
   one neighbouring character on each side so that ``\\b`` and one-character lookarounds
   see what they see in the full text.
3. The recognizer object itself runs on each merged window; spans are shifted back.
   Presidio's own post-processing follows: its duplicate removal and score threshold.

4. Over a batch (:meth:`WindowedAnalyzer.analyze_batch`), one hyperscan database holds a
   gate per recognizer (``WindowSpec.batch_gate``): one compiled scan per text says which
   recognizers can fire at all, and only those run steps 1-3. A gate is a superset of its
   seeds (or of the seeds its ``accept`` keeps), so skipping a recognizer whose gate did
   not match changes nothing. Without
   hyperscan (no wheel for the platform) every recognizer runs steps 1-3.

Recognizers without a spec (custom ones from elsewhere) run on the whole text, so the
answer stays exact. With a blank spaCy pipeline, Presidio's lemma-based context
enhancement cannot fire (every lemma is empty) and the NER recognizer finds nothing, so
neither needs the NLP pass; with a real spaCy model installed both run on the full text's
NLP artifacts, as in Presidio.
"""

from __future__ import annotations

import importlib
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ollive.redact._presidio import enhance_with_context, pattern_runner, remove_duplicates

__all__ = ["WindowSpec", "WindowedAnalyzer"]

_NO_WINDOWS = "never"  # a recognizer that cannot fire in this configuration


@dataclass(frozen=True)
class WindowSpec:
    """Where a recognizer can match: the contract the fast path relies on for exactness.

    ``seeds``: regexes (case-sensitive unless ``ignore_case``); every match of the
    recognizer contains an occurrence of one of them. ``gate``: optional regex whose
    maximal matches contain every seed occurrence; seeds are then only searched inside
    gate matches (one shared scan instead of one per seed). ``spans_whitespace``: matches
    may cross spaces (cards, phones). ``min_digits``: digits the window must hold.
    ``context_chars``: characters before a match that the recognizer reads.
    ``open_seeds``: more seeds, always searched in the whole text (not gated).
    ``min_chars``: the shortest seed occurrence; shorter gate matches are skipped.
    ``accept(recognizer, text, seed_match)``: optional; ``False`` only when the recognizer
    itself would drop that match (its own validation), so the window is not needed.
    Seeds with ``accept`` must be the recognizer's own patterns (or an expression shown to
    match exactly as they do), which is what makes ``accept`` exact. ``right_run``: the window also takes the next whitespace-delimited run (a match may
    read into it: Presidio's IBAN pattern takes up to 4 letters of the next word).
    ``batch_gate``: a hyperscan expression that matches every text any
    seed occurs in (a superset: lookarounds dropped), or at least every text a seed that
    ``accept`` keeps occurs in; by default the gate, else the seeds.
    ``ascii_batch_gate``: the same for ASCII texts only, which are scanned as bytes (``\\d``
    is ``[0-9]``, ``\\w`` is ``[0-9A-Za-z_]``, as in Python on an ASCII text); by default
    ``batch_gate``'s expressions. Cheaper to scan where a gate reads word boundaries.
    """

    seeds: tuple[str, ...]
    spans_whitespace: bool = False
    min_digits: int = 0
    context_chars: int = 0
    ignore_case: bool = False
    gate: str | None = None
    open_seeds: tuple[str, ...] = ()
    min_chars: int = 0
    accept: Callable[[Any, str, re.Match[str]], bool] | None = None
    batch_gate: str | None = None
    right_run: bool = False
    ascii_batch_gate: str | None = None


DIGIT_ISLAND = r"\d[\d \u00a0.()\-/]{6,}"
HS_ISLAND_CLASS = r"[\d \x{a0}.()\-/]"
"""The class of :data:`DIGIT_ISLAND` in hyperscan's syntax (UTF-8 mode)."""
"""Gate: a run of digits and `` .()-/`` (and no-break spaces) of 7+ characters, from its
first digit."""

_DIGITS = (r"\d+",)


def _crypto_may_validate(value: str) -> bool:
    """False when Presidio's Base58 decoding must fail: a ``1``/``3`` address holding ``0``."""
    return value[0] not in "13" or "0" not in value


CRYPTO_GATE = r"[1-9A-HJ-NP-Za-km-z]{26}|bc1[a-z0-9]{25}"
"""The crypto batch gate: the first 26 (28) characters of every seed that ``accept`` keeps.

Presidio validates a ``1``/``3`` address by Base58 decoding, which fails on ``0``, ``O``,
``I`` and ``l``, and a ``bc1`` address by Bech32 decoding, which fails on mixed case (and
``bc1`` is lower case). Hex ids and tokens that start with ``1``/``3`` hold those characters
in most texts, so the crypto step runs in about half of the texts the seed itself matches.
The Base58 run does not ask for its leading ``1``/``3``: anchoring a 25-character repeat
on every ``1`` and ``3`` of a text made this gate a quarter of the byte database's scan."""


_PRESIDIO_SPECS: dict[str, WindowSpec] = {
    "EmailRecognizer": WindowSpec(("@",)),
    "UrlRecognizer": WindowSpec((r"\.[a-zA-Z]{2}",)),
    "IpRecognizer": WindowSpec((r"\d\.\d", ":")),
    "MacAddressRecognizer": WindowSpec(
        (r"[0-9a-f]{2}[:-][0-9a-f]{2}", r"[0-9a-f]{4}\.[0-9a-f]{4}"), ignore_case=True
    ),
    "CryptoRecognizer": WindowSpec(
        # Presidio's pattern under its IGNORECASE flag, spelled case-sensitively (faster)
        (r"(?:[bB][cC]1|[13])[a-zA-Z0-9]{25,59}",),
        accept=lambda rec, text, m: (
            _crypto_may_validate(m.group()) and bool(rec.validate_result(m.group()))
        ),
        batch_gate=CRYPTO_GATE,
    ),
    "DateRecognizer": WindowSpec(_DIGITS),
    "UsLicenseRecognizer": WindowSpec(_DIGITS),
    "UsPassportRecognizer": WindowSpec((r"\d{8}",)),
    "UsBankRecognizer": WindowSpec((r"\d{8}",)),
    "MedicalLicenseRecognizer": WindowSpec((r"\d{7}",)),
    "CreditCardRecognizer": WindowSpec((r"\d{3}",), spans_whitespace=True, min_digits=13),
    "UsSsnRecognizer": WindowSpec((r"\d{2}",), spans_whitespace=True, min_digits=9),
    "UsItinRecognizer": WindowSpec((r"\d{2}",), spans_whitespace=True, min_digits=9),
    "NhsRecognizer": WindowSpec((r"\d{3}",), spans_whitespace=True, min_digits=10),
    "IbanRecognizer": WindowSpec(
        (r"[A-Z][A-Z]\d\d(?:[ -]?[A-Z0-9]{4}){2}",), spans_whitespace=True, right_run=True
    ),
    "PhoneRecognizer": WindowSpec(_DIGITS, spans_whitespace=True, min_digits=3),
}
_RUN_HEAD = re.compile(r"\S*")
_DIGIT = re.compile(r"\d")


def spec_for(recognizer: Any, nlp_is_blank: bool) -> WindowSpec | str | None:
    """The recognizer's window spec, ``"never"``, or ``None`` (run on the whole text)."""
    spec = getattr(recognizer, "FAST_SPEC", None)
    if isinstance(spec, WindowSpec):
        return spec
    name = type(recognizer).__name__
    if name == "SpacyRecognizer":
        return _NO_WINDOWS if nlp_is_blank else None
    return _PRESIDIO_SPECS.get(name)


_WS = re.compile(r"\s")


def run_start(text: str, pos: int) -> int:
    """Start of the whitespace-delimited run that holds (or ends just before) ``pos``."""
    start = max(text.rfind(" ", 0, pos), text.rfind("\n", 0, pos), text.rfind("\t", 0, pos)) + 1
    if _WS.search(text, start, pos) is None:
        return start
    last = start
    for m in _WS.finditer(text, start, pos):  # other Unicode whitespace in between
        last = m.end()
    return last


def run_end(text: str, pos: int) -> int:
    """End of the whitespace-delimited run that holds ``pos``."""
    return _RUN_HEAD.match(text, pos).end()  # type: ignore[union-attr]


def _continues_cluster(run: str) -> bool:
    return (
        len(run) <= 4
        or _DIGIT.search(run) is not None
        or run.lower() in ("extension", "extn", "extn.")
    )


def _skip_space_left(text: str, pos: int) -> int:
    """``len(text[:pos].rstrip())`` without copying the prefix (runs are a space apart)."""
    while pos > 0 and text[pos - 1].isspace():
        pos -= 1
    return pos


def _skip_space_right(text: str, pos: int, n: int) -> int:
    """``n - len(text[pos:].lstrip())`` without copying the suffix."""
    while pos < n and text[pos].isspace():
        pos += 1
    return pos


def cluster_around(text: str, pos: int) -> tuple[int, int]:
    """The run at ``pos`` widened over neighbouring runs that hold digits or are short.

    A match that may cross spaces (``4111 1111 1111 1111``, ``+44 20 7946 0958``,
    ``GB82 WEST 1234 5698 7654 32``) lies inside one such cluster.
    """
    start, end = run_start(text, pos), run_end(text, pos)
    while start > 0:
        prev_end = _skip_space_left(text, start)
        if prev_end == 0:
            break
        prev_start = run_start(text, prev_end)
        if not _continues_cluster(text[prev_start:prev_end]):
            break
        start = prev_start
    n = len(text)
    while end < n:
        next_start = _skip_space_right(text, end, n)
        if next_start >= n:
            break
        next_end = run_end(text, next_start)
        if not _continues_cluster(text[next_start:next_end]):
            break
        end = next_end
    return start, end


_RUNS = re.compile(r"\S+")


class _Runs:
    """The whitespace-delimited runs of one text, indexed once (linear in the text).

    Answers ``run_start``, ``run_end`` and ``cluster_around`` by bisection, so that the
    windows of a text cost O(log n) each however long its runs and clusters are.
    """

    __slots__ = ("starts", "ends", "left", "right")

    def __init__(self, text: str) -> None:
        spans = [(m.start(), m.end()) for m in _RUNS.finditer(text)]
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]
        cont = [_continues_cluster(text[s:e]) for s, e in spans]
        n = len(spans)
        self.left = list(range(n))
        for k in range(1, n):
            if cont[k - 1]:
                self.left[k] = self.left[k - 1]
        self.right = list(range(n))
        for k in range(n - 2, -1, -1):
            if cont[k + 1]:
                self.right[k] = self.right[k + 1]

    def _run_at(self, pos: int) -> int:
        """Index of the run that holds ``pos`` or ends at it, else ``-1``."""
        k = bisect_right(self.starts, pos) - 1
        if k >= 0 and pos <= self.ends[k]:
            return k
        return -1

    def run_start(self, pos: int) -> int:
        k = self._run_at(pos)
        return self.starts[k] if k >= 0 else pos

    def run_end(self, pos: int) -> int:
        k = self._run_at(pos)
        return self.ends[k] if k >= 0 and pos < self.ends[k] else pos

    def cluster(self, pos: int) -> tuple[int, int]:
        k = self._run_at(pos)
        if k < 0:
            return pos, pos
        return self.starts[self.left[k]], self.ends[self.right[k]]

    def next_run_end(self, pos: int) -> int:
        """End of the first run that starts at or after ``pos`` (``pos`` if none)."""
        k = bisect_left(self.starts, pos)
        return self.ends[k] if k < len(self.starts) else pos


def _window(
    text: str, pos: int, spec: WindowSpec, runs: _Runs | None = None
) -> tuple[int, int, int] | None:
    """``(start, end, core_start)``: the window, and where the part with full context begins.

    Matches of this seed start at or after ``core_start``; the ``context_chars`` before it
    are in the window only as context (a match found there has its own context cut short,
    so it is left to its own seed's window).
    """
    if runs is None:  # a short text: walking its runs is cheaper than indexing them
        if spec.spans_whitespace:
            start, end = cluster_around(text, pos)
        else:
            start, end = run_start(text, pos), run_end(text, pos)
    elif spec.spans_whitespace:
        start, end = runs.cluster(pos)
    else:
        start, end = runs.run_start(pos), runs.run_end(pos)
        if end - start > MAX_RUN_WINDOW:  # a huge run: only the seed's neighbourhood
            start = max(start, pos - MAX_RUN_WINDOW // 2)
            end = min(end, pos + MAX_RUN_WINDOW // 2)
    if spec.min_digits and len(_DIGIT.findall(text, start, end)) < spec.min_digits:
        return None
    core = start
    if spec.context_chars and start > 0:
        ctx = max(0, start - spec.context_chars)
        start = run_start(text, ctx) if runs is None else runs.run_start(ctx)
    if spec.right_run and end < len(text):
        if runs is None:
            nxt = _skip_space_right(text, end, len(text))
            end = run_end(text, nxt) if nxt < len(text) else end
        else:
            end = max(end, runs.next_run_end(end))
    return max(0, start - 1), min(len(text), end + 1), core


INDEX_RUNS_FROM = 2_048
"""Texts longer than this get their runs indexed (a long run or cluster costs O(log n))."""
MAX_RUN_WINDOW = 2_048
"""A run without whitespace longer than this is searched only around each seed (an e-mail
or a URL is shorter): Presidio's own patterns would take quadratic time on such a run."""


def _region(start: int, end: int, n: int) -> tuple[int, int, int]:
    """A gate match ``[start, end)`` of a text of length ``n`` as the seeds are searched in:
    widened by the characters seed lookarounds read (one before, two after), and its size."""
    return max(0, start - 1), min(n, end + 2), end - start


def _gate_regions(gate: re.Pattern[str], text: str, searched: bool) -> list[tuple[int, int, int]]:
    """The :func:`_region` of each match of ``gate`` in ``text``. ``searched``: the gate never
    matches the empty string, so each search goes on from the last match's end, as
    ``finditer`` does (the region spelled out there, one call less per match)."""
    n = len(text)
    if not searched:
        return [_region(m.start(), m.end(), n) for m in gate.finditer(text)]
    regions: list[tuple[int, int, int]] = []
    search = gate.search
    m = search(text)
    while m is not None:
        start, end = m.span()
        regions.append((start - 1 if start else 0, end + 2 if end + 2 < n else n, end - start))
        m = search(text, end)
    return regions


def _merge(windows: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, list[int]]]:
    """Overlapping windows merged; each keeps the core starts of the windows it holds."""
    merged: list[tuple[int, int, list[int]]] = []
    for s, e, core in sorted(windows):
        if merged and s <= merged[-1][1]:
            last = merged[-1]
            last[2].append(core)
            merged[-1] = (last[0], max(e, last[1]), last[2])
        else:
            merged.append((s, e, [core]))
    return merged


def _in_context_only(start: int, window_start: int, cores: list[int], context: int) -> bool:
    """Whether a match at ``start`` lies before every core it could belong to (context only)."""
    if not context or window_start == 0:
        return False
    return start < min(cores)


def _window_runner(recognizer: Any, entities: list[str]) -> Callable[[str], list[Any]]:
    """``text -> recognizer.analyze(text, entities)`` without NLP artifacts.

    A recognizer whose ``analyze`` is Presidio's pattern pass (or that pass followed by its
    own ``keeps``, marked ``keeps_after_patterns``) runs it through
    :func:`~ollive.redact._presidio.pattern_runner`: the same results without the pass's
    per-call overhead, which on a window costs more than the matching.
    """
    from presidio_analyzer import PatternRecognizer

    analyze = type(recognizer).analyze
    if analyze is PatternRecognizer.analyze:
        return pattern_runner(recognizer)  # type: ignore[no-any-return]
    if getattr(analyze, "keeps_after_patterns", False):
        patterns, keeps = pattern_runner(recognizer), recognizer.keeps
        return lambda text: [r for r in patterns(text) if keeps(text, r.start, r.end)]
    return lambda text: recognizer.analyze(text=text, entities=entities, nlp_artifacts=None)  # type: ignore[no-any-return]


def never_empty(regex: re.Pattern[str]) -> bool:
    """Whether every match of ``regex`` holds a character (its shortest match is not empty).

    Read from the parse tree of ``re`` (``False`` where it is not there to read): a
    lookaround, ``\\b`` or an optional part has width 0, a character or class width 1.
    """
    try:
        parser = importlib.import_module("re._parser")
        return bool(parser.parse(regex.pattern, regex.flags).getwidth()[0] > 0)
    except (ImportError, AttributeError, re.error):
        return False


def _finditer_regions(
    regexes: list[re.Pattern[str]],
    text: str,
    regions: list[tuple[int, int, int]],
    min_chars: int,
    out: list[re.Match[str]],
) -> None:
    """``out.extend(regex.finditer(text, lo, hi))`` for each regex, for each region of
    ``min_chars`` or more (any regex: one that may match the empty string too)."""
    for regex in regexes:
        for lo, hi, size in regions:
            if size >= min_chars:
                out.extend(regex.finditer(text, lo, hi))


def _search_regions(
    regexes: list[re.Pattern[str]],
    text: str,
    regions: list[tuple[int, int, int]],
    min_chars: int,
    out: list[re.Match[str]],
) -> None:
    """:func:`_finditer_regions` for regexes that never match the empty string.

    A ``search`` from each match's end finds the next match ``finditer`` finds (a match
    that is not empty is followed by a search from its end; lookbehinds read the text
    before ``pos`` either way, ``^`` never matches there), and one ``search`` on a region
    without a match costs less than building and draining an iterator: most regions
    (digit islands) hold no seed of a given step.
    """
    for regex in regexes:
        search = regex.search
        for lo, hi, size in regions:
            if size >= min_chars:
                m = search(text, lo, hi)
                while m is not None:
                    out.append(m)
                    m = search(text, m.end(), hi)


@dataclass
class _Step:
    """One windowed recognizer, with its regexes compiled."""

    recognizer: Any
    spec: WindowSpec
    key: tuple[Any, ...]
    seeds: list[re.Pattern[str]]
    open_seeds: list[re.Pattern[str]]
    gate: re.Pattern[str] | None
    run: Callable[[str], list[Any]]  # the recognizer's findings in a window
    never_empty: bool = field(init=False)
    find: Callable[..., None] = field(init=False)  # _search_regions or _finditer_regions

    def __post_init__(self) -> None:
        # no seed (nor the gate) matches the empty string: each is searched, not iterated
        gate = [self.gate] if self.gate is not None else []
        self.never_empty = all(never_empty(r) for r in self.seeds + self.open_seeds + gate)
        self.find = _search_regions if self.never_empty else _finditer_regions


@dataclass
class _Plan:
    """What to run for one entity selection."""

    steps: list[_Step]
    whole_text: list[Any]
    recognizers: list[Any]
    entities: list[str]
    gate: _BatchGate | None = None


class WindowedAnalyzer:
    """Same findings as ``analyzer.analyze(text, "en", entities, score_threshold)``, faster.

    ``analyzer`` is a built Presidio ``AnalyzerEngine``; ``nlp_is_blank`` says whether its
    spaCy pipeline is ``spacy.blank("en")`` (no lemmas, no NER). Thread-safe: it holds no
    per-call state.
    """

    def __init__(self, analyzer: Any, nlp_is_blank: bool) -> None:
        from presidio_analyzer import RecognizerResult

        self.analyzer = analyzer
        self.nlp_is_blank = nlp_is_blank
        self._remove_duplicates = remove_duplicates
        self._result_cls = RecognizerResult
        self._regexes: dict[tuple[str, bool], re.Pattern[str]] = {}
        self._plans: dict[tuple[str, ...], _Plan] = {}

    def _compiled(self, pattern: str, ignore_case: bool) -> re.Pattern[str]:
        key = (pattern, ignore_case)
        compiled = self._regexes.get(key)
        if compiled is None:
            compiled = self._regexes[key] = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        return compiled

    def _plan(self, entities: Sequence[str] | None) -> _Plan:
        key = tuple(entities or ())
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        recognizers = self.analyzer.registry.get_recognizers(
            language="en", entities=list(entities) if entities else None, all_fields=not entities
        )
        all_entities = list(entities) if entities else self.analyzer.get_supported_entities("en")
        steps: list[_Step] = []
        whole_text: list[Any] = []
        for rec in recognizers:
            spec = spec_for(rec, self.nlp_is_blank)
            if spec == _NO_WINDOWS:
                continue
            if not isinstance(spec, WindowSpec):
                whole_text.append(rec)
                continue
            steps.append(
                _Step(
                    rec,
                    spec,
                    (spec.seeds, spec.open_seeds, spec.ignore_case, spec.gate),
                    [self._compiled(p, spec.ignore_case) for p in spec.seeds],
                    [self._compiled(p, spec.ignore_case) for p in spec.open_seeds],
                    self._compiled(spec.gate, False) if spec.gate else None,
                    _window_runner(rec, all_entities),
                )
            )
        plan = _Plan(steps, whole_text, list(recognizers), all_entities)
        plan.gate = _BatchGate.build(steps)
        self._plans[key] = plan
        return plan

    @staticmethod
    def _seed_positions(text: str, step: _Step, memo: dict[Any, Any]) -> list[int]:
        """Start offsets of the seed occurrences that need a window."""
        spec = step.spec
        matches = memo.get(step.key)
        if matches is None:
            matches = []
            find = step.find
            if step.gate is not None:
                regions = memo.get(spec.gate)
                if regions is None:
                    regions = memo[spec.gate] = _gate_regions(step.gate, text, step.never_empty)
                find(step.seeds, text, regions, spec.min_chars, matches)
            else:
                find(step.seeds, text, [(0, len(text), 0)], 0, matches)
            if step.open_seeds:
                find(step.open_seeds, text, [(0, len(text), 0)], 0, matches)
            memo[step.key] = matches
        if not matches:
            return matches
        accept = spec.accept
        if accept is None:
            return [m.start() for m in matches]
        rec = step.recognizer
        return [m.start() for m in matches if accept(rec, text, m)]

    def analyze(
        self, text: str, entities: Sequence[str] | None = None, score_threshold: float | None = None
    ) -> list[Any]:
        """Presidio ``RecognizerResult`` objects, as the analyzer would return them."""
        return self.analyze_batch([text], entities, score_threshold)[0]

    def analyze_batch(
        self,
        texts: Sequence[str],
        entities: Sequence[str] | None = None,
        score_threshold: float | None = None,
    ) -> list[list[Any]]:
        """``analyze`` for every text: one gate scan per text, NER as one spaCy batch."""
        plan = self._plan(entities)
        threshold = (
            self.analyzer.default_score_threshold if score_threshold is None else score_threshold
        )
        artifacts = self._nlp_batch(texts)
        out: list[list[Any]] = []
        for i, text in enumerate(texts):
            if not text:
                out.append([])
                continue
            if plan.gate is None:
                steps, islands = plan.steps, None
            else:
                steps, islands = plan.gate.scan(text, plan.steps)
            out.append(self._analyze(text, plan, steps, artifacts[i], threshold, islands))
        return out

    def _nlp_batch(self, texts: Sequence[str]) -> list[Any]:
        """NLP artifacts per text (``None`` with the blank pipeline or for a long text)."""
        if self.nlp_is_blank:
            return [None] * len(texts)
        engine = self.analyzer.nlp_engine
        short = [i for i, t in enumerate(texts) if t and len(t) <= NLP_MAX_CHARS]
        artifacts: list[Any] = [None] * len(texts)
        for i, (_, art) in zip(
            short, engine.process_batch([texts[i] for i in short], "en", batch_size=64), strict=True
        ):
            artifacts[i] = art
        return artifacts

    def _analyze(
        self,
        text: str,
        plan: _Plan,
        steps: list[_Step],
        artifacts: Any,
        threshold: float,
        islands: list[tuple[int, int, int]] | None = None,
    ) -> list[Any]:
        # the DIGIT_ISLAND regions, when the batch gate's scan found them already
        memo: dict[Any, Any] = {} if islands is None else {DIGIT_ISLAND: islands}
        results: list[Any] = []
        for step in steps:
            positions = self._seed_positions(text, step, memo)
            if not positions:
                continue
            spec, rec = step.spec, step.recognizer
            runs = memo.get(_Runs)
            if runs is None and len(text) > INDEX_RUNS_FROM:
                runs = memo[_Runs] = _Runs(text)
            windows = _merge(
                w for p in positions if (w := _window(text, p, spec, runs)) is not None
            )
            for start, end, cores in windows:
                for r in step.run(text[start:end]):
                    r.start += start
                    r.end += start
                    if _in_context_only(r.start, start, cores, spec.context_chars):
                        continue
                    results.append(self._tag(r, rec, self._result_cls))
        if plan.whole_text or not self.nlp_is_blank:
            if self.nlp_is_blank or artifacts is not None:
                results = self._whole_text(text, plan, results, artifacts)
            else:
                results = self._long_text(text, plan, results)
        if not results:
            return results
        results = self._remove_duplicates(results)
        return [r for r in results if r.score >= threshold]

    @staticmethod
    def _tag(result: Any, rec: Any, result_cls: Any) -> Any:
        meta = result.recognition_metadata or {}
        meta.setdefault(result_cls.RECOGNIZER_IDENTIFIER_KEY, rec.id)
        meta.setdefault(result_cls.RECOGNIZER_NAME_KEY, rec.name)
        result.recognition_metadata = meta
        return result

    def _whole_text(self, text: str, plan: _Plan, results: list[Any], artifacts: Any) -> list[Any]:
        """Run spec-less recognizers on the whole text; apply context when lemmas exist."""
        for rec in plan.whole_text:
            for r in rec.analyze(text=text, entities=plan.entities, nlp_artifacts=artifacts):
                results.append(self._tag(r, rec, self._result_cls))
        if artifacts is None:
            return results
        return enhance_with_context(self.analyzer, text, results, artifacts, plan.recognizers)

    def _long_text(self, text: str, plan: _Plan, results: list[Any]) -> list[Any]:
        """A text over :data:`NLP_MAX_CHARS` with NER: spaCy on chunks cut at whitespace.

        Pattern findings are the same as for a short text; NER sees each chunk alone (a
        name cut by a chunk edge can be missed) and context words do not raise scores.
        """
        engine = self.analyzer.nlp_engine
        for start, end in _chunks(text, NLP_MAX_CHARS):
            chunk = text[start:end]
            art = engine.process_text(chunk, "en")
            for rec in plan.whole_text:
                for r in rec.analyze(text=chunk, entities=plan.entities, nlp_artifacts=art):
                    r.start += start
                    r.end += start
                    results.append(self._tag(r, rec, self._result_cls))
        return results


NLP_MAX_CHARS = 100_000
"""Longer texts reach spaCy in chunks (its memory grows with the length of one text)."""


def _chunks(text: str, size: int) -> list[tuple[int, int]]:
    """Spans of at most ``size`` characters covering ``text``, cut after whitespace if any."""
    spans: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while start < n:
        end = min(n, start + size)
        if end < n:
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            if cut > start:
                end = cut + 1
        spans.append((start, end))
        start = end
    return spans


def _hs_patterns(spec: WindowSpec) -> list[str]:
    """The hyperscan expressions whose union matches every text a seed of ``spec`` is in."""
    if spec.batch_gate is not None:
        return [spec.batch_gate]
    if spec.gate == DIGIT_ISLAND:
        lead = [rf"\d{HS_ISLAND_CLASS}{{{max(6, spec.min_chars - 1)},}}"]
    elif spec.gate is not None:
        lead = [spec.gate]
    else:
        lead = list(spec.seeds)
    return lead + list(spec.open_seeds)


_COMPILED: dict[tuple[tuple[bytes, ...], tuple[int, ...], tuple[int, ...]], Any] = {}
_COMPILED_LOCK = threading.Lock()


def _compiled_db(hyperscan: Any, expressions: list[bytes], ids: list[int], flags: list[int]) -> Any:
    """A compiled hyperscan database, built once per process for the same expressions.

    Compiling the gates takes ~1 s of CPU; a process that builds several redactors (a
    policy reload, one per project's recognizer set, a test module) compiles each once. A
    database is read-only and thread-safe (each thread scans with its own scratch). Raises
    ``hyperscan.error`` when it does not compile (remembered too: the gates try a plain
    compile before a prefilter one).
    """
    key = (tuple(expressions), tuple(ids), tuple(flags))
    with _COMPILED_LOCK:
        db = _COMPILED.get(key)
        if db is None:
            db = hyperscan.Database()
            try:
                db.compile(expressions=expressions, ids=ids, elements=len(expressions), flags=flags)
            except hyperscan.error as exc:
                db = exc  # refused: remembered too
            _COMPILED[key] = db
    if isinstance(db, hyperscan.error):
        raise db.with_traceback(None)  # the remembered error, without earlier raises' frames
    return db


def _compilable(hyperscan: Any, patterns: list[bytes], flag: int) -> int | None:
    """``flag``, or ``flag`` with ``HS_FLAG_PREFILTER`` when only that compiles, or ``None``.

    A prefilter database matches a superset of what the expression matches (hyperscan's
    contract), which is all a gate needs: the card gate, for one, is "too large" for
    hyperscan with Unicode digits and compiles as a prefilter.
    """
    for candidate in (flag, flag | hyperscan.HS_FLAG_PREFILTER):
        try:
            _compiled_db(hyperscan, patterns, [0] * len(patterns), [candidate] * len(patterns))
        except hyperscan.error:
            continue
        return candidate
    return None


_HS_ISLANDS = (
    rb"[0-9][0-9 .()\-/]{6,}[^0-9 .()\-/]",  # reported at the character after the island
    rb"[0-9][0-9 .()\-/]{6,}\z",  # an island that ends the text
)
"""On an ASCII text, the :data:`DIGIT_ISLAND` matches, found by the byte database.

``\\d`` is ``[0-9]`` there and no no-break space occurs. An island runs from the first
digit of a run of its class that has 6 more of them after it to the end of that run (no
later digit of the run starts one if the first does not), so each run yields one match of
these expressions, ending at the run's end, and hyperscan's leftmost start of match is that
first digit: the same spans as ``re.finditer(DIGIT_ISLAND, text)`` (sorted into text order)."""


class _BatchGate:
    """Hyperscan databases of every step's gate: which steps can fire in a text.

    Two databases hold the same gates: one reads UTF-8 with Unicode properties (any text),
    the other reads bytes and serves ASCII texts. On an ASCII text both say the same (``\\d``,
    ``\\w``, ``\\s`` and case folding agree on ASCII characters; a non-ASCII character in an
    expression matches neither), and the byte database scans faster: Unicode classes such
    as ``\\d`` or a negated class make a larger automaton, and the card gate, "too large"
    with Unicode digits, compiles exactly instead of as a prefilter. When a step reads
    :data:`DIGIT_ISLAND`, the byte database also reports the islands (:data:`_HS_ISLANDS`),
    so that an ASCII text's islands cost no ``re`` scan.
    """

    def __init__(
        self,
        hyperscan: Any,
        dbs: tuple[Any, Any],
        always: tuple[frozenset[int], ...],
        n: int,
        islands: bool,
    ) -> None:
        self._hs = hyperscan
        self._db, self._ascii_db = dbs
        self._always, self._ascii_always = always
        self._n_steps = n
        self._local = threading.local()
        self._islands = islands  # whether the byte database reports the islands

    @classmethod
    def build(cls, steps: Sequence[_Step]) -> _BatchGate | None:
        """The gate for ``steps``, or ``None`` without hyperscan (every step then runs)."""
        try:
            import hyperscan
        except ImportError:
            return None
        built = cls._database(hyperscan, steps, hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_UCP)
        ascii_built = None
        if any(step.spec.gate == DIGIT_ISLAND for step in steps):
            ascii_built = cls._database(hyperscan, steps, 0, ascii_texts=True, islands=True)
        islands = ascii_built is not None
        if ascii_built is None:
            ascii_built = cls._database(hyperscan, steps, 0, ascii_texts=True)
        if built is None or ascii_built is None:
            return None
        return cls(
            hyperscan,
            (built[0], ascii_built[0]),
            (built[1], ascii_built[1]),
            len(steps),
            islands,
        )

    @staticmethod
    def _database(
        hyperscan: Any,
        steps: Sequence[_Step],
        mode: int,
        ascii_texts: bool = False,
        islands: bool = False,
    ) -> tuple[Any, frozenset[int]] | None:
        """A database of the steps' gates under ``mode``, and the steps that always run.

        ``islands``: with :data:`_HS_ISLANDS` under ids ``len(steps)`` and ``len(steps) + 1``
        (``None`` if hyperscan refuses that database).
        """
        base = hyperscan.HS_FLAG_SINGLEMATCH | mode
        expressions: list[bytes] = []
        ids: list[int] = []
        flags: list[int] = []
        always: set[int] = set()
        for i, step in enumerate(steps):
            wanted = base | (hyperscan.HS_FLAG_CASELESS if step.spec.ignore_case else 0)
            if ascii_texts and step.spec.ascii_batch_gate is not None:
                patterns = [step.spec.ascii_batch_gate.encode()]
            else:
                patterns = [p.encode() for p in _hs_patterns(step.spec)]
            flag = _compilable(hyperscan, patterns, wanted)
            if flag is None:  # a gate hyperscan cannot compile at all: that step always runs
                always.add(i)
                continue
            expressions += patterns
            ids += [i] * len(patterns)
            flags += [flag] * len(patterns)
        if islands:
            expressions += _HS_ISLANDS
            ids += [len(steps), len(steps) + 1]
            flags += [hyperscan.HS_FLAG_SOM_LEFTMOST] * 2
        if not expressions:
            return None
        try:
            db = _compiled_db(hyperscan, expressions, ids, flags)
        except hyperscan.error:
            if islands:
                return None
            raise
        return db, frozenset(always)

    def scan(
        self, text: str, steps: list[_Step]
    ) -> tuple[list[_Step], list[tuple[int, int, int]] | None]:
        """The steps whose gate matches ``text`` (in plan order), and the text's
        :data:`DIGIT_ISLAND` regions as ``_seed_positions`` keeps them, or ``None``
        (not found by the scan: a non-ASCII text, or no step reads islands)."""
        ascii_text = text.isascii()
        if ascii_text:
            db, always, key, data = self._ascii_db, self._ascii_always, "ascii", text.encode()
        else:
            db, always, key = self._db, self._always, "utf8"
            data = text.encode("utf-8", "surrogatepass")
        scratch = getattr(self._local, key, None)
        if scratch is None:
            scratch = self._hs.Scratch(db)
            setattr(self._local, key, scratch)
        hits = list(always)
        islands: list[tuple[int, int, int]] | None = None
        if ascii_text and self._islands:
            islands = []
            db.scan(
                data,
                match_event_handler=_hit_or_island,
                context=(hits, islands, self._n_steps, len(text)),
                scratch=scratch,
            )
            islands.sort()  # in text order, as re finds them, whatever order they came in
        else:
            db.scan(data, match_event_handler=_hit, context=hits, scratch=scratch)
        if len(hits) == self._n_steps:
            return steps, islands
        hits.sort()
        return [steps[i] for i in hits], islands


def _hit(step: int, _from: int, _to: int, _flags: int, hits: list[int]) -> None:
    """Hyperscan's match callback: each step's gate reports once (``HS_FLAG_SINGLEMATCH``)."""
    hits.append(step)


def _hit_or_island(
    step: int,
    start: int,
    end: int,
    _flags: int,
    context: tuple[list[int], list[tuple[int, int, int]], int, int],
) -> None:
    """The byte database's callback: a step's gate, or an island (ids past the steps'),
    kept as its :func:`_region` (spelled out here: one call less per island)."""
    hits, islands, n_steps, n = context
    if step < n_steps:
        hits.append(step)
        return
    if step == n_steps:
        end -= 1  # reported at the character after the island
    islands.append((start - 1 if start else 0, end + 2 if end + 2 < n else n, end - start))
