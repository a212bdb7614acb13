"""What the scripted expert reads from a task: the edits to make, names to search, a repro script.

Pure functions over a task's text (its fix patch, the base file contents, the issue): no sandbox,
no IO beyond what the caller passes in.

- ``plan_edits`` turns the fix patch into ``str_replace`` edits whose ``old_str`` is the smallest
  window of whole lines around each change that occurs exactly once in the file at that moment
  (edits are applied in order, so later windows are checked against the already edited text);
- ``issue_identifiers`` ranks the names an issue mentions by how strongly they point at a file;
- ``describe_change`` says in words what differs between two versions of a few lines.
"""

from __future__ import annotations

import builtins
import difflib
import doctest
import keyword
import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEF = re.compile(r"^\s*(?:async\s+def|def|class)\s+([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*[:=]")
_TOKEN = re.compile(r"\w+|[^\w\s]+")
_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
# Words that occur in issues' code but never identify where the bug lives.
_COMMON = frozenset(
    {"self", "true", "false", "none", "print", "import", "from", "return", "date", "datetime", "expected"}
)
MIN_OLD_STR_CHARS = 12  # a shorter old_str (e.g. "    else:") is rarely a readable anchor


@dataclass(frozen=True)
class Edit:
    """One ``str_replace`` the expert makes, and where it sits in the file before the edit."""

    path: str  # repository-relative
    old_str: str
    new_str: str
    line: int  # 1-based line of the first changed line in the file as it is before this edit
    base_line: int  # the same line's number in the untouched base file
    removed: tuple[str, ...]  # the changed lines before (without newlines)
    added: tuple[str, ...]  # and after
    scope: str  # the enclosing "def"/"class" name, or the assigned module-level name, or ""


@dataclass(frozen=True)
class FileEdits:
    """Every edit in one file, or the whole text of a new file / a deletion."""

    path: str
    kind: str  # "modified" | "added" | "removed"
    edits: tuple[Edit, ...] = ()
    new_text: str = ""
    base_lines: int = 0  # length of the file before any edit


def _blocks(hunk) -> list[tuple[int, list[str], list[str]]]:
    """(0-based source line, removed lines, added lines) for each run of changed lines in a hunk."""
    blocks: list[tuple[int, list[str], list[str]]] = []
    line_no = hunk.source_start - 1
    current: tuple[int, list[str], list[str]] | None = None
    for line in hunk:
        if line.is_context:
            current = None
            line_no += 1
            continue
        if current is None:
            current = (line_no, [], [])
            blocks.append(current)
        if line.is_removed:
            current[1].append(line.value)
            line_no += 1
        elif line.is_added:
            current[2].append(line.value)
    return blocks


def scope_at(lines: list[str], index: int) -> str:
    """Where line ``index`` (0-based) sits: "Class.method", "function", a module-level name, or ""."""
    names: list[str] = []
    level = 10**6
    if 0 <= index < len(lines) and lines[index].strip():
        text = lines[index]
        level = len(text) - len(text.lstrip())
        if (found := _DEF.match(text)) is not None:
            names.append(found.group(1))
        elif level == 0:
            assigned = _ASSIGN.match(text)
            return assigned.group(1) if assigned else ""
    for pos in range(min(index, len(lines)) - 1, -1, -1):
        text = lines[pos]
        indent = len(text) - len(text.lstrip())
        if not text.strip() or indent >= level:
            continue
        level = indent
        if (found := _DEF.match(text)) is not None:
            names.append(found.group(1))
        if indent == 0:
            break
    return ".".join(reversed(names))


def _window(lines: list[str], start: int, count: int, text: str, widen: int) -> tuple[int, int]:
    """The smallest [lo, hi) around lines[start:start+count] whose text occurs once in ``text``."""
    lo, hi = start, start + count
    if lo == hi:  # a pure insertion: anchor on the line above (or below at the top of the file)
        lo, hi = (lo - 1, hi) if lo > 0 else (lo, hi + 1)
    grow_up = True
    for _ in range(len(lines) + widen):
        snippet = "".join(lines[lo:hi])
        unique = text.count(snippet) == 1
        if unique and len(snippet.strip()) >= MIN_OLD_STR_CHARS and widen <= 0:
            break
        if unique and len(snippet.strip()) >= MIN_OLD_STR_CHARS:
            widen -= 1
        if (grow_up and lo > 0) or hi >= len(lines):
            lo -= 1 if lo > 0 else 0
        else:
            hi += 1
        grow_up = not grow_up
        if lo == 0 and hi >= len(lines):
            break
    return lo, hi


def _strip_end(old: str, new: str) -> tuple[str, str]:
    if old.endswith("\n") and new.endswith("\n"):
        return old[:-1], new[:-1]
    return old, new


def is_doc_only(removed: list[str], added: list[str]) -> bool:
    """Whether a change touches only comments or docstrings (an agent makes those last)."""
    changed = [line.strip() for line in (*removed, *added) if line.strip()]
    return bool(changed) and all(line.startswith(("#", '"""', "'''")) for line in changed)


def _plan_file(pfile, base_text: str, widen_for) -> FileEdits:
    lines = base_text.splitlines(keepends=True)
    base_lines, edits = len(lines), []
    blocks = [block for hunk in pfile for block in _blocks(hunk)]
    # Code changes first, comment and docstring updates after them; each block is then found at
    # its base line shifted by the size changes of the blocks already applied above it.
    blocks.sort(key=lambda block: is_doc_only(block[1], block[2]))
    applied: list[tuple[int, int]] = []  # (base line, lines added minus removed)
    for source_line, removed, added in blocks:
        start = source_line + sum(delta for line, delta in applied if line < source_line)
        if "".join(lines[start : start + len(removed)]) != "".join(removed):
            raise ValueError(f"{pfile.path}: the patch does not match line {source_line + 1}")
        text = "".join(lines)
        lo, hi = _window(lines, start, len(removed), text, widen_for(len(edits)))
        old = "".join(lines[lo:hi])
        new_lines = lines[lo:start] + added + lines[start + len(removed) : hi]
        old_str, new_str = _strip_end(old, "".join(new_lines))
        edits.append(
            Edit(
                path=pfile.path,
                old_str=old_str,
                new_str=new_str,
                line=start + 1,
                base_line=source_line + 1,
                removed=tuple(x.rstrip("\n") for x in removed),
                added=tuple(x.rstrip("\n") for x in added),
                scope=scope_at(lines, start if removed else max(start - 1, 0)),
            )
        )
        lines[start : start + len(removed)] = added
        applied.append((source_line, len(added) - len(removed)))
    return FileEdits(pfile.path, "modified", tuple(edits), base_lines=base_lines)


def _plan_file_from_hunks(pfile) -> FileEdits:
    """Edits without the base file at hand: one per hunk, its whole text (context included) as old_str."""
    edits = []
    for hunk in pfile:
        old = "".join(line.value for line in hunk if not line.is_added)
        new = "".join(line.value for line in hunk if not line.is_removed)
        old_str, new_str = _strip_end(old, new)
        section = _DEF.match(hunk.section_header or "")
        edits.append(
            Edit(
                path=pfile.path,
                old_str=old_str,
                new_str=new_str,
                line=hunk.target_start,
                base_line=hunk.source_start,
                removed=tuple(line.value.rstrip("\n") for line in hunk if line.is_removed),
                added=tuple(line.value.rstrip("\n") for line in hunk if line.is_added),
                scope=section.group(1) if section else "",
            )
        )
    last = max((h.source_start + h.source_length - 1 for h in pfile), default=0)
    return FileEdits(pfile.path, "modified", tuple(edits), base_lines=last)


def plan_edits(patch: str, read_base, widen_for=lambda index: 0) -> list[FileEdits]:
    """The edits that turn the base tree into the patched one, file by file in patch order.

    ``read_base(path)`` returns a file's base text, or None when it cannot be read (then each hunk
    becomes one edit with the hunk's whole text); ``widen_for(k)`` how many extra context lines
    (beyond the unique minimum) the k-th edit of a file should carry.
    """
    from unidiff import PatchSet

    planned: list[FileEdits] = []
    for pfile in PatchSet(patch):
        if pfile.is_removed_file:
            planned.append(FileEdits(pfile.path, "removed"))
        elif pfile.is_added_file:
            text = "".join(line.value for hunk in pfile for line in hunk if line.is_added)
            planned.append(FileEdits(pfile.path, "added", new_text=text))
        else:
            text = read_base(pfile.path)
            planned.append(
                _plan_file_from_hunks(pfile) if text is None else _plan_file(pfile, text, widen_for)
            )
    return planned


# ---------------------------------------------------------------------------------------------
# The issue


def code_fragments(issue: str) -> list[str]:
    """Inline code spans and doctest sources of an issue, in order of appearance."""
    spans = re.findall(r"`([^`\n]+)`", issue)
    examples = [ex.source for ex in doctest.DocTestParser().get_examples(issue)]
    return spans + examples


def issue_identifiers(issue: str) -> list[str]:
    """Names the issue's code mentions, most frequent first (builtins and keywords left out)."""
    counts: dict[str, int] = {}
    for fragment in code_fragments(issue):
        for name in _NAME.findall(_STRING.sub('""', fragment)):
            if len(name) < 3 or keyword.iskeyword(name) or hasattr(builtins, name) or name.lower() in _COMMON:
                continue
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda n: -counts[n])


def rank_for_file(names: list[str], file_text: str) -> list[str]:
    """``names`` that occur in ``file_text``, those it defines first."""
    defined = set(_DEF.findall(file_text)) | set(re.findall(r"^\s*def\s+(\w+)", file_text, re.M))
    present = [n for n in names if re.search(rf"\b{re.escape(n)}\b", file_text)]
    return sorted(present, key=lambda n: (n not in defined, names.index(n)))


def issue_title(issue: str) -> str:
    first = next((line.strip() for line in issue.splitlines() if line.strip()), "the reported problem")
    return first.rstrip(".")


def as_clause(title: str) -> str:
    """The issue title as the tail of a sentence ("... explains why <clause>")."""
    head, _, rest = title.partition(" ")
    if head[:1].isupper() and head[1:].islower() and not head.startswith("`"):
        head = head.lower()
    return f"{head} {rest}".strip()


# ---------------------------------------------------------------------------------------------
# Describing a change


def _spans(line: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOKEN.finditer(line)]


def _token_changes(old: str, new: str) -> list[tuple[str, str]]:
    a, b = _spans(old), _spans(new)
    matcher = difflib.SequenceMatcher(
        None, [old[s:e] for s, e in a], [new[s:e] for s, e in b], autojunk=False
    )
    changes = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        before = old[a[i1][0] : a[i2 - 1][1]] if i2 > i1 else ""
        after = new[b[j1][0] : b[j2 - 1][1]] if j2 > j1 else ""
        changes.append((before, after))
    return changes


def _balanced(text: str) -> bool:
    return all(text.count(a) == text.count(b) for a, b in ("()", "[]", "{}"))


def _one_line_change(old: str, new: str, old_raw: str, new_raw: str) -> str:
    if old == new:
        deeper = len(old_raw) - len(old_raw.lstrip()) > len(new_raw) - len(new_raw.lstrip())
        where = "too deep, so it only runs inside the enclosing block" if deeper else "not deep enough"
        return f"it is indented {where}"
    changes = _token_changes(old, new)
    in_strings = any("\\" in a + b or (a + b).count('"') % 2 or (a + b).count("'") % 2 for a, b in changes)
    if len(changes) > 2 or in_strings or not all(_balanced(a) and _balanced(b) for a, b in changes):
        return f"it should read `{new}`"
    parts = []
    repeated = {pair for pair in changes if changes.count(pair) > 1}
    for before, after in dict.fromkeys(changes):
        if (before, after) in repeated and before and after:
            parts.append(f"each `{before}` should be `{after}`")
            continue
        if before and after:
            parts.append(f"`{before}` should be `{after}`")
        elif after:
            parts.append(f"it is missing `{after}`")
        else:
            parts.append(f"`{before}` should not be there")
    return "; ".join(parts)


def _new_names(old: list[str], new: list[str], limit: int = 3) -> list[str]:
    """Dotted names or keywords the new lines use and the old ones do not."""
    before = set(re.findall(r"[\w.]+", " ".join(old)))
    found = [n for n in re.findall(r"[A-Za-z_][\w.]*", " ".join(new)) if n not in before]
    return [n for n in dict.fromkeys(found) if "." in n or n in ("try", "finally", "with", "while")][:limit]


def describe_change(removed: tuple[str, ...], added: tuple[str, ...]) -> str:
    """A short clause saying what has to change, e.g. "`<=` should be `<`"."""
    old = [line for line in removed if line.strip()]
    new = [line for line in added if line.strip()]
    if len(old) == 1 and len(new) == 1:
        return _one_line_change(old[0].strip(), new[0].strip(), old[0], new[0])
    if not old and new:
        lead = next((line.strip() for line in new if not line.strip().startswith("#")), new[0].strip())
        return f"{len(new)} more line(s), starting with `{lead}`"
    if old and new:
        names = _new_names(old, new)
        using = f" (using {', '.join(f'`{n}`' for n in names)})" if names else ""
        return f"it has to become {len(new)} lines, starting with `{new[0].strip()}`{using}"
    return f"`{old[0].strip()}` should go" if old else "the code needs a small change"
