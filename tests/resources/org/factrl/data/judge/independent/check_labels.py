#!/usr/bin/env python3
"""Second, independent pass over answers.jsonl: re-derives labels from the answer TEXT and the
annotation, with logic separate from make_answers.py (it does not import it), for the answer
families a few rules can read. Prints every disagreement; exit status 1 if any.

Usage: check_labels.py [FOLDER]   (default: this script's folder)
"""
import json
import os
import re
import sys

D = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
scenes = {s["id"]: s for s in json.load(open(os.path.join(D, "annotations.json")))}
rows = [json.loads(l) for l in open(os.path.join(D, "answers.jsonl"))]

COL = {"red": "red", "crimson": "red", "scarlet": "red", "green": "green", "emerald": "green", "lime": "green",
       "blue": "blue", "navy": "blue", "azure": "blue", "yellow": "yellow", "lemon": "yellow", "golden": "yellow",
       "purple": "purple", "violet": "purple", "lilac": "purple", "orange": "orange", "tangerine": "orange"}
SHP = {"circle": "circle", "square": "square", "triangle": "triangle", "diamond": "diamond", "star": "star",
       "cross": "cross", "dot": "circle", "disc": "circle", "box": "square", "plus sign": "cross",
       "pentagram": "star", "rhombus": "diamond", "lozenge": "diamond"}
THINGS = ["kite", "dog", "cat", "lamp", "sled", "ball", "car", "tree", "bird", "chair", "umbrella", "boat",
          "snowman", "cup", "book", "flower", "bicycle", "rock", "shell", "seashell", "candle", "moon", "sea",
          "sunset", "park"]
THINGS_RE = r"\b(%s)s?\b" % "|".join(THINGS)
WORDNUM = {"zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "just one": 1, "only one": 1}
ENVWORDS = {"field": ["grass", "meadow", "field", "lawn"], "beach": ["beach", "sand"],
            "snow": ["snow"], "night": ["night"], "room": ["room", "indoors", "wooden"]}


def objs(sid, shape=None, colour=None, size=None):
    return [o for o in scenes[sid]["objects"] if (shape is None or o["shape"] == shape)
            and (colour is None or o["colour"] == colour) and (size is None or o["size"] == size)]


def parse_np(text):
    """'large red circle' (or plural) -> attribute dict."""
    kw = {}
    for w in text.lower().split():
        for suffix in ("es", "s", ""):
            if suffix and w.endswith(suffix) and w[: -len(suffix)] in SHP:
                kw["shape"] = SHP[w[: -len(suffix)]]
                break
            if not suffix and w in SHP:
                kw["shape"] = SHP[w]
        if w in ("small", "large"):
            kw["size"] = w
        if w in COL and w == COL[w]:
            kw["colour"] = w
    return kw


def says_yes_no(ans):
    a = ans.lower().strip()
    no_pat = [r"^no\b", r"^nope", r"^definitely not", r"absent", r"^i see no", r"^there is no", r"^not that",
              r"don't think", r"^there isn't"]
    if any(re.search(p, a) for p in no_pat):
        return "no"
    if re.search(r"^(yes|yep)\b", a) or "think so" in a or re.search(r"\bthere is an? ", a):
        return "yes"
    return None


def in_region(o, name):
    """Regions as documented in the README; None when within 0.05 of a boundary involved."""
    T = 1 / 3
    def band(v, lo, hi):
        ok_lo = lo == 0 or v >= lo + 0.05
        ok_hi = hi == 1 or v <= hi - 0.05
        if ok_lo and ok_hi:
            return True
        if (lo > 0 and v <= lo - 0.05) or (hi < 1 and v >= hi + 0.05):
            return False
        return None
    x, y = o["x"], o["y"]
    spec = {"top-left": [(x, 0, T), (y, 0, T)], "top-right": [(x, 2 * T, 1), (y, 0, T)],
            "bottom-left": [(x, 0, T), (y, 2 * T, 1)], "bottom-right": [(x, 2 * T, 1), (y, 2 * T, 1)],
            "middle": [(x, T, 2 * T), (y, T, 2 * T)], "left": [(x, 0, .5)], "right": [(x, .5, 1)],
            "top": [(y, 0, .5)], "bottom": [(y, .5, 1)]}[name]
    r = [band(*s) for s in spec]
    if all(v is True for v in r):
        return True
    if any(v is False for v in r):
        return False
    return None


REGION_RE = [(r"(top|upper)[- ]left", "top-left"), (r"(top|upper)[- ]right", "top-right"),
             (r"(bottom|lower)[- ]left", "bottom-left"), (r"(bottom|lower)[- ]right", "bottom-right"),
             (r"(?<!of )(?<!below the )(?<!above the )\b(middle|cent(re|er))", "middle"), (r"left(-hand)? side|on the left\b", "left"),
             (r"right(-hand)? side|on the right\b", "right"), (r"at the top|upper half", "top"),
             (r"at the bottom|lower half", "bottom")]


def regions_in(text):
    t = text.lower()
    found = []
    for pat, name in REGION_RE:
        m = re.search(pat, t)
        if m:
            found.append(name)
            t = t[: m.start()] + " " * (m.end() - m.start()) + t[m.end():]
    return found


checked = {}
bad = []


def check(r, rule, expect):
    checked[rule] = checked.get(rule, 0) + 1
    if expect != r["hallucinated"]:
        bad.append((rule, r))


for r in rows:
    sid, q, a = r["image_id"], r["question"], r["answer"]
    al = a.lower()
    # 1. out-of-vocabulary things asserted (not denied) -> hallucinated
    for t in THINGS:
        for m in re.finditer(r"\b%s(s)?\b" % t, al):
            before = al[max(0, m.start() - 22): m.start()]
            if not re.search(r"\b(no|any|isn't|not)\b[\w ]*$", before):
                check(r, "oov-asserted", True)
                break
    # 2. POPE: label from annotation, meaning of answer, and wrong polarity -> hallucinated
    if r["question_type"] == "pope":
        m = re.match(r"Is there an? (.+?)(?: in the image| in the picture| in a field| on a beach| in the snow|"
                     r" at night| indoors)?\?$", q)
        np = m.group(1)
        present = bool(objs(sid, **parse_np(np))) if parse_np(np).get("shape") else False
        if ("yes" if present else "no") != r["pope_label"]:
            bad.append(("pope-label", r))
        s = says_yes_no(a)
        if s is not None and s != r["answer_says"]:
            bad.append(("pope-says", r))
        if r["answer_says"] != r["pope_label"]:
            check(r, "pope-wrong-polarity", True)
        elif a in ("Yes.", "No.", "yes", "nope", "Definitely not.", "That one is absent.", "No, there isn't.",
                   "Yes, there is.", "Not that I can see."):
            check(r, "pope-bare", False)
    # 3. single region claim about a uniquely named object, in a 'where is' question
    m = re.match(r"(?i)where(?: is|'s| in the picture is) the (.+?)(?: in the image| located)?\??$", q)
    if m and r["question_type"] == "relation" and "relative" not in q:
        ms = objs(sid, **parse_np(m.group(1)))
        regs = regions_in(a)
        if len(ms) == 1 and regs and not re.search(THINGS_RE, al) and "actually" not in al:
            vals = [in_region(ms[0], g) for g in regs]
            if None not in vals:
                check(r, "region", not all(vals))
    # 4. bare counts
    m = re.match(r"(?i)how many (.+?) (?:are there|can you see)", q)
    if m and r["question_type"] == "counting" and (parse_np(m.group(1)) or m.group(1) in ("objects", "shapes")):
        np = m.group(1)
        kw = parse_np(np)
        n = len(scenes[sid]["objects"]) if np in ("objects", "shapes") else len(objs(sid, **kw))
        mm = re.fullmatch(r"(?:there (?:are|is) |i count |only |just )?(\d+|zero|none|one|two|three|four|five|six|"
                          r"seven|eight|nine)(?: [a-z]+){0,2}\.?", al)
        if mm and " or " not in al:
            v = mm.group(1)
            v = int(v) if v.isdigit() else WORDNUM[v]
            check(r, "count", v != n)
    # 5. bare colour answers to 'what colour is the X'
    m = re.match(r"(?i)(?:what colou?r is|what is the colou?r of|which colour does|tell me the colour of) the (.+?)"
                 r"(?: have)?[?.]?$", q)
    if m and r["question_type"] == "attribute":
        ms = objs(sid, **parse_np(m.group(1)))
        words = [w for w in re.findall(r"[a-z]+", al) if w in COL]
        if len(ms) == 1 and len(words) == 1 and not re.search(THINGS_RE, al) and \
                not regions_in(a) and not re.search(r"\b(small|large)\b", al):
            check(r, "colour", COL[words[0]] != ms[0]["colour"])
    # 6. environment answers naming one environment
    if r["question_type"] == "environment" and re.match(r"(?i)(where is this|what is the background|what kind of place)", q):
        envs = {e for e, ws in ENVWORDS.items() if any(w in al for w in ws)}
        if len(envs) == 1 and not re.search(THINGS_RE, al) and not re.search(r"\d| objects", al):
            check(r, "environment", envs != {scenes[sid]["environment"]})

for r in rows:
    # 7. relative position statements answering 'where is A relative to B'
    m = re.match(r"(?:What is the position of|Where is|How is) the (.+?) (?:relative to|placed with respect to) the (.+)\?$",
                 r["question"])
    al = r["answer"].lower()
    if not m or re.search(THINGS_RE, al):
        continue
    a1, a2 = objs(r["image_id"], **parse_np(m.group(1))), objs(r["image_id"], **parse_np(m.group(2)))
    if len(a1) != 1 or len(a2) != 1:
        continue
    dx, dy = a1[0]["x"] - a2[0]["x"], a1[0]["y"] - a2[0]["y"]
    said = [k for k, p in (("left", r"left"), ("right", r"right"), ("above", r"above|higher|over"),
                           ("below", r"below|beneath|lower|under")) if re.search(p, al)]
    if len(said) != 1:
        continue
    holds = {"left": dx < -0.1, "right": dx > 0.1, "above": dy < -0.1, "below": dy > 0.1}[said[0]]
    check(r, "relative", not holds)

print("rules checked:", checked, "total", sum(checked.values()))
for rule, r in bad:
    print("DISAGREE", rule, json.dumps(r, ensure_ascii=False))
print("disagreements:", len(bad))
sys.exit(1 if bad else 0)
