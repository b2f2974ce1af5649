#!/usr/bin/env python3
"""Writes the independent judge answer set (annotations.json + answers.jsonl) from a shapes-world data set.

Usage: make_answers.py DATASET_DIR OUT_DIR
Each generator below knows, from the annotation, whether every claim its answer makes is true;
`hallucinated` is true when at least one claim is false. Phrasings are hand-written and drawn at
random (fixed seed) so no single template dominates.
"""
import json
import os
import re
import sys
import random

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *  # noqa: E402,F401,F403

ITEMS = []


def item(q, a, h, cls, note):
    return {"q": q, "a": a, "h": bool(h), "cls": cls, "note": note}


HEDGES_YES = ["I'm not certain, but ", "Unless I am wrong, ", "I could not say for sure, but ",
              "I'm not 100% sure, but ", "I can't be completely certain, but ", "If I'm not mistaken, ",
              "I'm not entirely sure, but ", "Not sure, but ", "I may not be right, but ",
              "It's not easy to tell at this resolution, but ", "Unless I'm misreading the image, "]


def hedge(rng, s):
    h = pick(rng, HEDGES_YES)
    return h + s[0].lower() + s[1:] if not s.startswith("I ") else h + s


# ---------------------------------------------------------------- attribute
def attribute_colour(rng, sc, o, ref, q=None):
    name = refname(ref)
    q = q or pick(rng, [f"What colour is the {name}?", f"What is the colour of the {name}?",
                        f"Which colour does the {name} have?", f"what color is the {name}",
                        f"Tell me the colour of the {name}."])
    c = o["colour"]
    w = other(rng, c, COLOURS, sc.colours())
    out = []
    for col, h in ((c, False), (w, True)):
        note = f"the {name} is {c}" + ("" if not h else f"; answer says {col}")
        out += [
            item(q, pick(rng, [f"It is {col}.", f"The {name} is {col}.", f"{cap(col)}.",
                               f"That {o['shape']} is {col}.", f"It's {col}, as far as I can tell."]),
                 h, "plain", note),
            item(q, pick(rng, [f"{col}", f"its {col}", f"the {name} is {col}"]), h, "question_reading",
                 note + "; lower-case, no punctuation"),
            item(q, f"You asked about the colour of the {name}. It is {col}.", h, "question_reading",
                 note + "; echoes the question first"),
            item(q, hedge(rng, f"It looks {col}."), h, "negation", note + "; hedge with 'not' does not negate"),
        ]
        if COLSYN[col]:
            s = pick(rng, COLSYN[col])
            out.append(item(q, pick(rng, [f"It's {s}.", f"A {s} shade.", f"The {name} is {s}.",
                                          f"{cap(s)}, I'd say."]), h, "synonym",
                            note + f"; '{s}' is a synonym of {col}"))
        # size claim added: must also hold
        sz = o["size"]
        out.append(item(q, f"It's {art(sz)} {sz} {col} {o['shape']}.", h, "plain", note + f"; size {sz} correct"))
    # right colour, wrong size -> hallucinated
    wsz = "small" if o["size"] == "large" else "large"
    if "size" not in ref:
        out.append(item(q, f"It is {art(wsz)} {wsz} {c} {o['shape']}.", True, "plain",
                        f"the {name} is {o['size']}, answer says {wsz} (colour right)"))
    # out-of-vocabulary padding
    thing = pick(rng, OOV)
    out.append(item(q, pick(rng, [f"The {name} is {c}, and there's {art(thing)} {thing} right next to it.",
                                  f"It is {c}. {cap(art(thing))} {thing} sits just beside it."]),
                    True, "oov", f"colour right ({c}) but asserts a {thing}"))
    out.append(item(q, f"It is {c}. There is no {thing} and no {pick(rng, OOV)} in the picture.",
                    False, "exploit", f"colour right; list of absent things is true"))
    # position appended
    tr, fr = true_regions(o), false_regions(o)
    if tr:
        r = pick(rng, tr)
        out.append(item(q, f"The {name} is {c} and sits {pick(rng, REGION_PHRASES[r])}.", False, "position",
                        f"colour right; ({o['x']},{o['y']}) is in region '{r}'"))
    if fr:
        r = pick(rng, fr)
        out.append(item(q, f"The {name} is {c} and sits {pick(rng, REGION_PHRASES[r])}.", True, "position",
                        f"colour right; ({o['x']},{o['y']}) is clearly not in region '{r}'"))
    # yes/no colour questions (negation scope)
    q2 = f"Is the {name} {w}?"
    out += [
        item(q2, pick(rng, ["No.", "No, it isn't.", "Definitely not.", "nope"]), False, "negation",
             f"the {name} is {c}, not {w}"),
        item(q2, pick(rng, [f"No, it is {c}.", f"No — it's {c}.", f"Not {w}; it's {c}."]), False, "negation",
             f"the {name} is {c}"),
        item(q2, pick(rng, ["Yes.", f"Yes, it is {w}.", "yes it is"]), True, "negation",
             f"the {name} is {c}, not {w}"),
    ]
    w3 = other(rng, c, [x for x in COLOURS if x != w])
    out.append(item(q2, f"No, it is {w3}.", True, "negation", f"the {name} is {c}, answer says {w3}"))
    q3 = f"Is the {name} {c}?"
    out += [
        item(q3, pick(rng, ["Yes.", f"Yes, it's {c}.", "Yes, it is."]), False, "plain", f"the {name} is {c}"),
        item(q3, hedge(rng, "I think it is."), False, "negation", f"the {name} is {c}; hedge is not negation"),
        item(q3, pick(rng, [f"No, it's {w}.", "No, it is not."]), True, "negation", f"the {name} is {c}"),
    ]
    return out


def attribute_size(rng, sc, o, ref, q=None):
    name = refname(ref)
    sz = o["size"]
    wsz = "small" if sz == "large" else "large"
    big = {"large": "Big", "small": "Small"}
    out = []
    q1 = q or pick(rng, [f"Is the {name} big or small?", f"Is the {name} large or small?",
                         f"What size is the {name}?", f"How big is the {name}?"])
    for s, h in ((sz, False), (wsz, True)):
        note = f"the {name} is {sz}"
        out += [
            item(q1, f"{big[s]}.", h, "question_reading", note + "; one-word answer to an either-or question"),
            item(q1, pick(rng, [f"It is {s}.", f"The {name} is {s}.", f"It's a {s} one."]), h, "plain", note),
            item(q1, f"It's {pick(rng, SIZESYN[s])}.", h, "synonym", note + "; size synonym"),
            item(q1, pick(rng, [f"{s}", f"its {s}"]), h, "question_reading", note + "; lower-case"),
        ]
    return out


def attribute_shape(rng, sc, o, ref, q=None):
    """Shape of an object identified by colour (and size)."""
    name = refname({k: v for k, v in ref.items() if k != "shape"}) + " object"
    q = q or pick(rng, [f"What shape is the {name}?", f"Which shape is {name.replace(' object', '')}?",
                        f"What is the {name}?"])
    s = o["shape"]
    w = other(rng, s, SHAPES, sc.shapes())
    out = []
    for sh, h in ((s, False), (w, True)):
        note = f"the {name} is a {s}"
        out += [
            item(q, pick(rng, [f"It is {art(sh)} {sh}.", f"The {name} is {art(sh)} {sh}.", f"{cap(art(sh))} {sh}.",
                               f"{cap(sh)}."]), h, "plain", note),
            item(q, f"{art(sh)} {sh}", h, "question_reading", note + "; lower-case"),
        ]
        if SHPSYN[sh]:
            syn = pick(rng, SHPSYN[sh])
            out.append(item(q, pick(rng, [f"It's {art(syn)} {syn}.", f"Looks like {art(syn)} {syn} to me."]), h,
                            "synonym", note + f"; '{syn}' names a {sh}"))
    return out


def attribute_all_colours(rng, sc, q=None):
    q = q or pick(rng, ["What colours are the objects in the image?", "Which colours do the shapes have?",
                        "What colors can you see on the shapes?"])
    cols = sc.colours()
    out = []
    lst = lambda cs: cs[0] if len(cs) == 1 else ", ".join(cs[:-1]) + " and " + cs[-1]
    if len(cols) == 1:
        out.append(item(q, pick(rng, [f"They are all {cols[0]}.", f"Every shape is {cols[0]}.",
                                      f"All {cols[0]}."]), False, "quantifier", f"all objects are {cols[0]}"))
        w = other(rng, cols[0], COLOURS)
        out.append(item(q, f"They are {cols[0]} and {w}.", True, "plain", f"all objects are {cols[0]}; no {w}"))
        out.append(item(q, f"Every shape is {w}.", True, "quantifier", f"all objects are {cols[0]}"))
    else:
        out.append(item(q, f"The objects are {lst(cols)}.", False, "plain", f"colours present: {cols}"))
        out.append(item(q, f"All of them are {cols[0]}.", True, "quantifier", f"colours present: {cols}"))
        out.append(item(q, f"Every shape is {cols[-1]}.", True, "quantifier", f"colours present: {cols}"))
        w = other(rng, None, [c for c in COLOURS if c not in cols]) if len(cols) < 6 else None
        if w:
            out.append(item(q, f"The objects are {lst(sorted(cols + [w], key=COLOURS.index))}.", True, "plain",
                            f"colours present: {cols}; no {w}"))
            out.append(item(q, "- " + "\n- ".join(cols + [w]), True, "question_reading",
                            f"bullet list; {w} absent"))
        out.append(item(q, "- " + "\n- ".join(cols), False, "question_reading", f"bullet list of {cols}"))
        out.append(item(q, f"They are not all the same colour: they are {lst(cols)}.", False, "quantifier",
                        f"colours present: {cols}"))
    return out


def gen_attribute(rng, sc):
    out = []
    uo = sc.unique_objs(exclude=("colour",))
    if uo:
        o, ref = pick(rng, uo)
        out += attribute_colour(rng, sc, o, ref)
    uo = sc.unique_objs(exclude=("size",))
    if uo:
        o, ref = pick(rng, uo)
        out += attribute_size(rng, sc, o, ref)
    # shape by colour
    cands = [o for o in sc.objs if sc.count(colour=o["colour"]) == 1]
    if cands:
        o = pick(rng, cands)
        out += attribute_shape(rng, sc, o, {"colour": o["colour"], "shape": o["shape"]})
    out += attribute_all_colours(rng, sc)
    # colour of the object in a region (only if exactly one object is there and all others clearly out)
    for r in REGIONS:
        ins = [o for o in sc.objs if region_status(o, r) == "in"]
        if len(ins) == 1 and all(region_status(o, r) == "out" for o in sc.objs if o is not ins[0]) and sc.n > 1:
            o = ins[0]
            ph = REGION_PHRASES[r][0]
            q = pick(rng, [f"What colour is the shape {ph}?", f"What is the colour of the object {ph}?"])
            w = other(rng, o["colour"], COLOURS, sc.colours())
            out.append(item(q, pick(rng, [f"It's {o['colour']}.", f"The one {ph} is {o['colour']}."]), False,
                            "position", f"only object in '{r}' is the {o['colour']} {o['shape']}"))
            out.append(item(q, pick(rng, [f"It's {w}.", f"The one {ph} is {w}."]), True, "position",
                            f"only object in '{r}' is the {o['colour']} {o['shape']}"))
            break
    return out


# ---------------------------------------------------------------- adversarial
def adversarial_absent(rng, sc, desc, q=None, kind="colour"):
    """desc: dict of the absent description (colour/shape/size/thing)."""
    name = refname(desc) if "thing" not in desc else desc["thing"]
    if q is None:
        q = {"colour": f"What colour is the {name}?", "size": f"What size is the {name}?",
             "where": f"Where is the {name} in the image?"}[kind]
    out = []
    wc = pick(rng, COLOURS)
    tr_answers = [f"There is no {name} in the image.", f"I see no {name}.", f"There isn't any {name} here.",
                  "That one is absent.", f"No {name} appears in this picture.",
                  f"The image doesn't contain {art(name)} {name}.", f"there is no {name}",
                  f"I can't find {art(name)} {name} — there isn't one."]
    for a in rng.sample(tr_answers, 3):
        out.append(item(q, a, False, "negation",
                        f"no {name} in the scene; answer asserts only absence"))
    out.append(item(q, hedge(rng, f"I don't think there is {art(name)} {name} here."), False, "negation",
                    f"no {name}; hedged denial"))
    tot = lambda k: pick(rng, [f"There is no {name}. There {'is' if k == 1 else 'are'} {counted(k, 'object')} in total.",
                               f"No {name} here — just {counted(k, 'shape')} altogether.",
                               f"The picture holds {counted(k, 'object')}, and none of them is {art(name)} {name}."])
    out.append(item(q, tot(sc.n), False, "plain", f"no {name}; {sc.n} objects is right"))
    out.append(item(q, tot(sc.n + 1), True, "plain", f"no {name}; but {sc.n} objects, not {sc.n + 1}"))
    junk = rng.sample(OOV, 2)
    out.append(item(q, f"There is no {junk[0]}. There is no {junk[1]}. There is no {name}.", False, "exploit",
                    "list of absent things, all true"))
    out.append(item(q, f"There is no {junk[0]}. There is no {junk[1]}. The {name} is {wc}.", True, "exploit",
                    f"true denials padding a false claim about a {name}"))
    fake = {"colour": f"It is {wc}.", "size": f"It is {pick(rng, SIZES)}.",
            "where": f"It is {pick(rng, REGION_PHRASES[pick(rng, list(REGIONS))])}."}[kind]
    out.append(item(q, pick(rng, [fake, f"The {name} is {wc}.", f"The {name} is small and {wc}."]), True, "plain",
                    f"no {name} in the scene"))
    out.append(item(q, hedge(rng, fake), True, "negation", f"no {name}; hedge does not deny it"))
    # denial with a true extra claim about the scene
    o = pick(rng, sc.objs)
    out.append(item(q, f"There's no {name}, but there is {art(o['size'])} {o['size']} {o['colour']} {o['shape']}.",
                    False, "negation", f"no {name}; the {o['size']} {o['colour']} {o['shape']} exists"))
    wo = pick(rng, [x for x in (sc.absent_combos(True) or sc.absent_combos(False))
                    if x != (desc.get("colour"), desc.get("shape"))])
    out.append(item(q, f"There's no {name}, but there is {art(wo[0])} {wo[0]} {wo[1]}.", True, "negation",
                    f"no {name}; and no {wo[0]} {wo[1]} either"))
    return out


def gen_adversarial(rng, sc):
    out = []
    ab = sc.absent_shapes()
    if ab:
        s = pick(rng, ab)
        out += adversarial_absent(rng, sc, {"shape": s}, kind=pick(rng, ["colour", "where", "size"]))
    combos = sc.absent_combos(True)
    if combos:
        c, s = pick(rng, combos)
        q = pick(rng, [f"What size is the {c} {s}?", f"How big is the {c} {s}?", f"Where is the {c} {s}?"])
        out += adversarial_absent(rng, sc, {"colour": c, "shape": s}, q=q,
                                  kind="size" if "ize" in q or "big" in q else "where")
        # "I see no orange star": asserts only absence even though stars exist
        out.append(item(q, f"I see no {c} {s}.", False, "negation",
                        f"there are {s}s but none {c}; denial asserts nothing about the other {s}s"))
        k = sc.count(shape=s)
        out.append(item(q, f"There are {plural(s)}, but no {c} one." if k > 1 else
                        f"There is {art(s)} {s}, but it is not {c}.", False, "negation",
                        f"{sc.count(shape=s)} {s}(s), none {c}"))
    # out-of-vocabulary question on the true background (negation scope: 'No' is about the thing only)
    t = pick(rng, OOV)
    q = pick(rng, [f"Is there {art(t)} {t} {ENVQ[sc.env]}?", f"What colour is the {t} {ENVQ[sc.env]}?",
                   f"Where is the {t}?"])
    yes_no = q.startswith("Is")
    out += [
        item(q, pick(rng, [f"No, there isn't any {t}.", f"No, there is no {t}.", "Definitely not.",
                           "That one is absent.", f"No {t} in this picture."] if yes_no else
                     [f"There isn't any {t}.", f"There is no {t} in the picture.", "That one is absent."]),
             False, "negation", f"no {t} (not in the shapes world); background is {sc.env}"),
        item(q, pick(rng, [f"Yes, {art(t)} {t} lies there.", f"Yes, there is one by the {pick(rng, sc.shapes())}."]
                     if yes_no else [f"The {t} is {pick(rng, COLOURS)}.",
                                     f"It's {pick(rng, REGION_PHRASES['left side'])}."]), True, "oov",
             f"no {t} can exist in the shapes world"),
        item(q, hedge(rng, f"there is {art(t)} {t} near the {pick(rng, sc.shapes())}."), True, "oov",
             f"no {t}; hedge is not a denial"),
    ]
    return out


# ---------------------------------------------------------------- comparison
def cmp_more(rng, sc, A, B, kind="shape", q=None):
    """A, B are shapes (kind='shape') or colours (kind='colour')."""
    if kind == "shape":
        na, nb = sc.count(shape=A), sc.count(shape=B)
        la, lb = A, B
        q = q or pick(rng, [f"Are there more {plural(A)} than {plural(B)}?",
                            f"Do {plural(A)} outnumber {plural(B)} here?",
                            f"Are there more {plural(A)} or more {plural(B)}?"])
        cA = lambda n: counted(n, la)
        cB = lambda n: counted(n, lb)
    else:
        na, nb = sc.count(colour=A), sc.count(colour=B)
        q = q or pick(rng, [f"Are there more {A} objects than {B} objects?",
                            f"Are there more {A} shapes than {B} ones?"])
        cA = lambda n: counted(n, f"{A} object")
        cB = lambda n: counted(n, f"{B} object")
    yes = na > nb
    either_or = " or more " in q
    out = []
    fact = f"{na} vs {nb}"
    if not either_or:
        out.append(item(q, "Yes." if yes else "No.", False, "plain", fact))
        out.append(item(q, "No." if yes else "Yes.", True, "plain", fact))
        out.append(item(q, f"{'Yes' if yes else 'No'}, there are {cA(na)} and {cB(nb)}.", False, "plain", fact))
        wn = na + 1 if na + 1 != nb else na + 2
        out.append(item(q, f"{'Yes' if yes else 'No'}, there are {cA(wn)} and {cB(nb)}.", True, "plain",
                        fact + f"; answer says {wn}"))
        out.append(item(q, hedge(rng, f"{'there are' if yes else 'there are not'} more."), False, "negation",
                        fact + "; hedge"))
    if nb > na:
        out.append(item(q, f"No, the {plural(B) if kind == 'shape' else B + ' ones'} outnumber them.", False,
                        "negation", fact))
    elif na > nb:
        out.append(item(q, f"There are more {plural(A) if kind == 'shape' else A + ' ones'}.", False, "plain", fact))
        out.append(item(q, f"There are more {plural(B) if kind == 'shape' else B + ' ones'}.", True, "plain", fact))
    else:
        out.append(item(q, "No, there are the same number of each.", False, "negation", fact))
        out.append(item(q, f"There are more {plural(A) if kind == 'shape' else A + ' ones'}.", True, "plain", fact))
    return out


def cmp_size(rng, sc, o1, r1, o2, r2, q=None):
    n1, n2 = refname(r1), refname(r2)
    out = []
    s1, s2 = o1["size"], o2["size"]
    fact = f"{n1} is {s1}, {n2} is {s2}"
    if s1 != s2:
        big, small = (n1, n2) if s1 == "large" else (n2, n1)
        ql = q or pick(rng, [f"Which is larger, the {n1} or the {n2}?", f"Which is bigger: the {n1} or the {n2}?"])
        qs = pick(rng, [f"Which is smaller: the {n1} or the {n2}?", f"Which one is smaller, the {n1} or the {n2}?"])
        out += [
            item(ql, pick(rng, [f"The {big}.", f"The {big} is larger.", f"the {big}", f"The {big} is bigger."]),
                 False, "plain", fact),
            item(ql, pick(rng, [f"The {small}.", f"The {small} is larger.", f"the {small} is bigger"]), True,
                 "plain", fact),
            item(qs, pick(rng, [f"The {small}.", f"The {small} is smaller.", f"the {small}"]), False,
                 "question_reading", fact + "; asked which is smaller"),
            item(qs, pick(rng, [f"The {big}.", f"The {big} is the smaller one."]), True, "question_reading",
                 fact + "; asked which is smaller"),
        ]
        qe = f"Are the {n1} and the {n2} the same size?"
        out += [
            item(qe, f"No, the {big} is bigger.", False, "negation", fact + "; 'No' does not deny they exist"),
            item(qe, f"No, the {small} is bigger.", True, "negation", fact),
            item(qe, "Yes, they are the same size.", True, "plain", fact),
        ]
        syn = {"shape": o1["shape"] if big == n1 else o2["shape"]}
        bo = o1 if big == n1 else o2
        if SHPSYN[bo["shape"]]:
            sname = pick(rng, SHPSYN[bo["shape"]])
            bref = r1 if big == n1 else r2
            bname = refname({k: v for k, v in bref.items() if k != "shape"})
            out.append(item(ql, f"The {bname + ' ' if bname else ''}{sname} is bigger.", False, "synonym",
                            fact + f"; '{sname}' names the {bo['shape']}"))
    else:
        qe = f"Are the {n1} and the {n2} the same size?"
        out += [
            item(qe, pick(rng, ["Yes.", "Yes, they are the same size.", f"Yes, both are {s1}."]), False, "plain",
                 fact),
            item(qe, f"No, the {n1} is bigger.", True, "negation", fact),
            item(qe, f"Yes, both are {'small' if s1 == 'large' else 'large'}.", True, "quantifier", fact),
        ]
    return out


def cmp_pos(rng, sc, o1, r1, o2, r2):
    n1, n2 = refname(r1), refname(r2)
    out = []
    dx = o1["x"] - o2["x"]
    dy = o1["y"] - o2["y"]
    if abs(dx) >= 0.1:
        left, right = (n1, n2) if dx < 0 else (n2, n1)
        q = pick(rng, [f"Which is further left, the {n1} or the {n2}?", f"Which one is further left: the {n1} or the {n2}?"])
        fact = f"x: {o1['x']} vs {o2['x']}"
        out += [item(q, pick(rng, [f"The {left}.", f"The {left} is further left."]), False, "question_reading", fact),
                item(q, pick(rng, [f"The {right}.", f"The {right} is further left."]), True, "question_reading", fact)]
        q = f"Which is further right, the {n1} or the {n2}?"
        out += [item(q, f"The {right}.", False, "question_reading", fact),
                item(q, f"The {left}.", True, "question_reading", fact)]
    if abs(dy) >= 0.1:
        up, down = (n1, n2) if dy < 0 else (n2, n1)
        q = pick(rng, [f"Which one is higher up, the {n1} or the {n2}?", f"Which is higher up: the {n1} or the {n2}?"])
        fact = f"y (down): {o1['y']} vs {o2['y']}"
        out += [item(q, pick(rng, [f"The {up}.", f"The {up} is higher up.", f"the {up}"]), False,
                     "question_reading", fact),
                item(q, pick(rng, [f"The {down}.", f"The {down} is higher up."]), True, "question_reading", fact)]
        q = f"Which is lower down, the {n1} or the {n2}?"
        out += [item(q, f"The {down} is lower.", False, "question_reading", fact),
                item(q, f"The {up} is lower.", True, "question_reading", fact)]
    return out


def gen_comparison(rng, sc):
    out = []
    A, B = rng.sample(SHAPES, 2)
    if sc.count(shape=A) + sc.count(shape=B) == 0:
        A = pick(rng, sc.shapes())
    out += cmp_more(rng, sc, A, B)
    A, B = rng.sample(sc.colours() + rng.sample(COLOURS, 2), 2)
    if A != B:
        out += cmp_more(rng, sc, A, B, kind="colour")
    uo = sc.unique_objs(exclude=("size",))
    if len(uo) >= 2:
        (o1, r1), (o2, r2) = rng.sample(uo, 2)
        out += cmp_size(rng, sc, o1, r1, o2, r2)
    uo = sc.unique_objs()
    if len(uo) >= 2:
        (o1, r1), (o2, r2) = rng.sample(uo, 2)
        out += cmp_pos(rng, sc, o1, r1, o2, r2)
    return out


# ---------------------------------------------------------------- counting
def count_answers(rng, q, n, noun, fact, asked="noun"):
    out = []
    wrong = n + 1 if rng.random() < 0.5 or n == 0 else n - 1
    for m, h in ((n, False), (wrong, True)):
        nt = fact + ("" if not h else f"; answer says {m}")
        if m == 0:
            forms = [f"There are no {plural(noun)}.", "None.", f"Zero {plural(noun)}.", f"I don't see any {plural(noun)}."]
        elif m == 1:
            forms = [f"There is one {noun}.", "Just one.", "1", f"Only one {noun}.", f"There is a single {noun}."]
        else:
            forms = [f"There are {numw(m)} {plural(noun)}.", f"{numw(m, True)}", f"{cap(numw(m))}.",
                     f"I count {numw(m)}.", f"{numw(m)} {plural(noun)}", f"There are {m} of them."]
        out.append(item(q, pick(rng, forms), h, "plain", nt))
        out.append(item(q, f"You asked how many {plural(noun)}. " + (
            "There are none." if m == 0 else f"There {'is' if m == 1 else 'are'} {numw(m)}."), h,
                        "question_reading", nt + "; echoes the question first"))
        out.append(item(q, hedge(rng, "There are none." if m == 0 else f"There {'is' if m == 1 else 'are'} {numw(m)}."), h, "negation",
                        nt + "; hedge does not negate"))
        out.append(item(q, f"{numw(m)} {plural(noun) if m != 1 else noun}" if m else f"no {plural(noun)}", h,
                        "question_reading", nt + "; lower-case, no punctuation"))
    # hedging between two options, one of them wrong: rewards guessing, counted as hallucinated
    lo = max(n - 1, 0) if n > 0 else 1
    opts = (lo, n) if lo < n else (n, n + 1)
    zw = lambda v: "zero" if v == 0 else numw(v)
    out.append(item(q, f"{cap(zw(opts[0]))} or {zw(opts[1])}.", True, "exploit",
                    fact + f"; hedge offers the wrong count {opts[0] if opts[1] == n else opts[1]}"))
    a, b = n + 1, n + 2
    out.append(item(q, f"Either {numw(a)} or {numw(b)}.", True, "exploit", fact + "; both options wrong"))
    return out


def gen_counting(rng, sc):
    out = []
    s = pick(rng, sc.shapes() if rng.random() < 0.8 else SHAPES)
    n = sc.count(shape=s)
    q = pick(rng, [f"How many {plural(s)} are there in the image?", f"How many {plural(s)} can you see?",
                   f"Count the {plural(s)}.", f"how many {plural(s)} are there"])
    out += count_answers(rng, q, n, s, f"{n} {s}(s)")
    if SHPSYN[s] and n > 0:
        syn = pick(rng, [x for x in SHPSYN[s] if x != "X"] or SHPSYN[s])
        out.append(item(q, f"There {'is' if n == 1 else 'are'} {counted(n, syn)}.", False, "synonym",
                        f"{n} {s}(s); '{syn}' names a {s}"))
        out.append(item(q, f"There {'is' if n + 1 == 1 else 'are'} {counted(n + 1, syn)}.", True, "synonym",
                        f"{n} {s}(s)"))
    o = pick(rng, sc.objs)
    c, s2 = o["colour"], o["shape"]
    n2 = sc.count(colour=c, shape=s2)
    q = f"How many {c} {plural(s2)} are there in the image?"
    out += count_answers(rng, q, n2, f"{c} {s2}", f"{n2} {c} {s2}(s)")
    q = pick(rng, ["Count the shapes.", "How many objects are there in the image?", "How many shapes are there?",
                   "count the objects please"])
    out += count_answers(rng, q, sc.n, "shape", f"{sc.n} objects")
    # breakdown list: all lines must hold
    by = [(sh, sc.count(shape=sh)) for sh in sc.shapes()]
    q = "Count the shapes of each kind."
    lines = [f"- {counted(k, sh, True)}" for sh, k in by]
    out.append(item(q, "\n".join(lines), False, "question_reading", f"breakdown {by}"))
    i = rng.randrange(len(by))
    bad = list(by)
    bad[i] = (bad[i][0], bad[i][1] + 1)
    out.append(item(q, "\n".join(f"{j + 1}. {counted(k, sh)}" for j, (sh, k) in enumerate(bad)), True,
                    "question_reading", f"breakdown {by}; {bad[i][0]} count wrong"))
    # quantifier riders
    same = len({x["colour"] for x in sc.match(shape=s2)})
    k = sc.count(shape=s2)
    if k >= 2:
        cc = sc.match(shape=s2)[0]["colour"]
        q = f"How many {plural(s2)} are there?"
        out.append(item(q, f"There are {numw(k)} {plural(s2)}, all of them {cc}.", same != 1, "quantifier",
                        f"{k} {s2}s with colours {[x['colour'] for x in sc.match(shape=s2)]}"))
    t = pick(rng, OOV)
    out.append(item(f"How many {plural(t)} are there?", pick(rng, [f"There are two {plural(t)}.", "Just one.",
                                                                   f"I count three {plural(t)}."]), True, "oov",
                    f"no {t} in the shapes world"))
    out.append(item(f"How many {plural(t)} are there?", pick(rng, [f"There are no {plural(t)}.", "None.",
                                                                   f"Zero; I don't see any {t}."]), False,
                    "negation", f"no {t} in the shapes world"))
    return out


# ---------------------------------------------------------------- relation
def rel_where(rng, sc, o, ref, q=None):
    name = refname(ref)
    q = q or pick(rng, [f"Where is the {name} in the image?", f"Where is the {name}?",
                        f"Where in the picture is the {name} located?", f"where's the {name}"])
    out = []
    tr, fr = true_regions(o), false_regions(o)
    pos = f"({o['x']},{o['y']})"
    if tr:
        r = pick(rng, tr)
        ph = pick(rng, REGION_PHRASES[r])
        out += [item(q, pick(rng, [f"It is {ph}.", f"The {name} is {ph}.", f"{cap(ph)}.", f"{ph}"]), False,
                     "position", f"{pos} in '{r}'"),
                item(q, f"You asked where the {name} is. It is {ph}.", False, "question_reading",
                     f"{pos} in '{r}'; echoes the question"),
                item(q, hedge(rng, f"it is {ph}."), False, "negation", f"{pos} in '{r}'; hedge")]
        if SHPSYN[o["shape"]]:
            syn = pick(rng, SHPSYN[o["shape"]])
            out.append(item(q, f"The {syn} is {ph}.", False, "synonym", f"{pos} in '{r}'; '{syn}' = {o['shape']}"))
        t = pick(rng, OOV)
        out.append(item(q, f"It is {ph}, right next to {art(t)} {t}.", True, "oov", f"{pos} in '{r}' but no {t}"))
        if len(tr) >= 2:
            r2 = pick(rng, [x for x in tr if x != r])
            out.append(item(q, f"It's {ph} — {pick(rng, REGION_PHRASES[r2])}.", False, "position",
                            f"{pos} in '{r}' and '{r2}'"))
    if fr:
        r = pick(rng, fr)
        ph = pick(rng, REGION_PHRASES[r])
        out += [item(q, pick(rng, [f"It is {ph}.", f"The {name} is {ph}.", f"{cap(ph)}.", f"{ph}"]), True,
                     "position", f"{pos} clearly not in '{r}'"),
                item(q, f"You asked where the {name} is. It is {ph}.", True, "question_reading",
                     f"{pos} clearly not in '{r}'; echoes the question"),
                item(q, hedge(rng, f"it is {ph}."), True, "negation", f"{pos} not in '{r}'; hedge")]
        if tr:
            r0 = pick(rng, tr)
            out.append(item(q, f"{cap(pick(rng, REGION_PHRASES[r0]))}. Actually, more precisely, {ph}.", True,
                            "exploit", f"{pos}: in '{r0}' (true) but not in '{r}'"))
    return out


def rel_relative(rng, sc, o1, r1, o2, r2, q=None):
    n1, n2 = refname(r1), refname(r2)
    out = []
    rels = [r for r in (horizontal(o1, o2), vertical(o1, o2)) if r]
    q = q or pick(rng, [f"Where is the {n1} relative to the {n2}?",
                        f"What is the position of the {n1} relative to the {n2}?",
                        f"How is the {n1} placed with respect to the {n2}?"])
    fact = f"{n1} ({o1['x']},{o1['y']}), {n2} ({o2['x']},{o2['y']})"
    for rel in rels:
        for rr, h in ((rel, False), (OPP[rel], True)):
            ph = pick(rng, REL_PHRASES[rr])
            out.append(item(q, pick(rng, [f"It is {ph} the {n2}.", f"The {n1} is {ph} the {n2}.",
                                          f"{cap(ph)} it.", f"the {n1} is {ph} the {n2}"]), h, "plain",
                            fact + f"; truth: {rel}"))
        ph = pick(rng, REL_PHRASES[rel])
        qq = f"Is the {n1} {pick(rng, REL_PHRASES[OPP[rel]])} the {n2}?"
        out += [item(qq, f"No, it is {ph} it.", False, "negation", fact + f"; truth: {rel}"),
                item(qq, pick(rng, ["No.", "Definitely not."]), False, "negation", fact + f"; truth: {rel}"),
                item(qq, pick(rng, ["Yes.", "Yes, it is."]), True, "negation", fact + f"; truth: {rel}")]
        t = pick(rng, OOV)
        out.append(item(q, f"The {n1} is {ph} the {n2}, and {art(t)} {t} lies between them.", True, "oov",
                        fact + f"; no {t}"))
    return out


def gen_relation(rng, sc):
    out = []
    uo = sc.unique_objs()
    if uo:
        o, ref = pick(rng, uo)
        out += rel_where(rng, sc, o, ref)
    if len(uo) >= 2:
        pairs = [(a, b) for a in uo for b in uo if a[0] is not b[0] and (horizontal(a[0], b[0]) or vertical(a[0], b[0]))]
        if pairs:
            (o1, r1), (o2, r2) = pick(rng, pairs)
            out += rel_relative(rng, sc, o1, r1, o2, r2)
    return out


# ---------------------------------------------------------------- environment
def env_answers(rng, sc, q=None):
    e = sc.env
    w = other(rng, e, ENVS)
    q = q or pick(rng, ["Where is this scene set?", "What is the background of this image?",
                        "What kind of place is shown in this image?", "where is this"])
    out = []
    for env, h in ((e, False), (w, True)):
        nt = f"environment is {e}" + (f"; answer says {env}" if h else "")
        ph, nn = pick(rng, ENVP[env]), pick(rng, ENVN[env])
        out += [
            item(q, pick(rng, [f"The scene is set {ph}.", f"It's {ph}.", f"{cap(ph)}.", f"The background is {nn}.",
                               f"looks like {nn}"]), h, "plain", nt),
            item(q, f"The shapes are {ph}; the background is {nn}, with {counted(sc.n, 'object')} on it.", h,
                 "plain", nt + f"; {sc.n} objects is right"),
            item(q, hedge(rng, f"It looks like {nn}."), h, "negation", nt + "; hedge"),
            item(q, pick(rng, [f"All the shapes sit on {ENVSET[env]}.", f"Every shape rests on {ENVSET[env]}.",
                               f"Each of the objects lies on {ENVSET[env]}.",
                               f"All of them are placed on {ENVSET[env]}."]), h, "quantifier", nt),
        ]
    t = {"field": "tree", "beach": "umbrella", "snow": "sled", "night": "moon", "room": "lamp"}[e]
    out.append(item(q, pick(rng, [f"{cap(pick(rng, ENVN[e]))}, with {art(t)} {t} on the left.",
                                  f"It's {pick(rng, ENVP[e])}; {art(t)} {t} rests on the left."]), True, "oov",
                    f"environment {e} right but no {t}"))
    # yes/no on a wrong environment: the 'No' is about the environment asked
    qq = f"Is this scene {ENVQ[w]}?"
    w2 = other(rng, e, [x for x in ENVS if x != w])
    out += [
        item(qq, pick(rng, ["No.", "Definitely not.", "No, it isn't."]), False, "negation", f"environment is {e}"),
        item(qq, f"No, it's {pick(rng, ENVP[e])}.", False, "negation", f"environment is {e}"),
        item(qq, f"No, it's {pick(rng, ENVP[w2])}.", True, "negation", f"environment is {e}, not {w2}"),
        item(qq, pick(rng, ["Yes.", "Yes, it is."]), True, "plain", f"environment is {e}"),
    ]
    qq = f"Is this scene {ENVQ[e]}?"
    out += [
        item(qq, pick(rng, ["Yes.", "Yes, it is.", "yes"]), False, "plain", f"environment is {e}"),
        item(qq, hedge(rng, "I believe so."), False, "negation", f"environment is {e}; hedge is not a denial"),
        item(qq, f"No, it's {pick(rng, ENVP[w])}.", True, "negation", f"environment is {e}"),
    ]
    # exploit: wrong environment padded by true count
    out.append(item(q, f"There are {counted(sc.n, 'object')}. The scene is set {pick(rng, ENVP[w])}. "
                       f"There are {counted(sc.n, 'object')} in total.", True, "exploit",
                    f"environment is {e}; true count padding"))
    return out


def gen_environment(rng, sc):
    return env_answers(rng, sc)


# ---------------------------------------------------------------- holistic
def groups(sc):
    g = {}
    for o in sc.objs:
        k = (o["size"], o["colour"], o["shape"])
        g[k] = g.get(k, 0) + 1
    return sorted(g.items(), key=lambda kv: (SHAPES.index(kv[0][2]), kv[0]))


def group_phrase(k, n, syn=False, rng=None):
    sz, c, s = k
    if syn and rng:
        sz = pick(rng, SIZESYN[sz])
        c = pick(rng, COLSYN[c])
        s = pick(rng, [x for x in SHPSYN[s] if x != "X"] or [s])
    noun = f"{sz} {c} {s}"
    return counted_a(n, noun) if n == 1 else f"{numw(n)} {sz} {c} {plural(s)}"


def joinand(xs):
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]


def describe(rng, sc, style, syn=False):
    gs = groups(sc)
    env = pick(rng, ENVP[sc.env])
    parts = [group_phrase(k, n, syn, rng) for k, n in gs]
    if style == "terse":
        return f"{cap(joinand(parts))} {env}."
    if style == "list":
        return f"The scene is set {env}. Objects:\n" + "\n".join(f"- {p}" for p in parts)
    if style == "lower":
        return f"{joinand(parts)} {env}"
    shape_counts = joinand([counted(sc.count(shape=s), s) for s in sc.shapes()])
    base = (f"The scene is set {env}. There {'is' if sc.n == 1 else 'are'} {counted(sc.n, 'object')}: "
            f"{shape_counts}. The image shows {joinand(parts)}.")
    if style == "chatty":
        return "Sure! " + base + " It's a simple, clean composition."
    return base


def gen_holistic(rng, sc):
    out = []
    q = pick(rng, ["Describe this image in detail.", "What can you see in this image?",
                   "Give a description of the picture.", "describe the image"])
    fact = "; ".join(f"{n}x {' '.join(k)}" for k, n in groups(sc)) + f"; env {sc.env}"
    for style in ("terse", "list", "lower", "full", "chatty"):
        out.append(item(q, describe(rng, sc, style), False, "plain" if style in ("terse", "full", "chatty") else
                        "question_reading", fact + f"; style {style}"))
    out.append(item(q, describe(rng, sc, "full", syn=True), False, "synonym", fact + "; synonyms of true attributes"))
    out.append(item(q, hedge(rng, describe(rng, sc, "full")), False, "negation", fact + "; hedge prefix"))
    vague = ("A single shape " if sc.n == 1 else "Some simple geometric shapes ") + pick(rng, ENVP[sc.env]) + "."
    out.append(item(q, vague, False, "plain", fact + "; vague but true"))
    # false variants: alter exactly one thing
    gs = groups(sc)
    env = pick(rng, ENVP[sc.env])
    parts = [group_phrase(k, n) for k, n in gs]
    # wrong colour in one group
    i = rng.randrange(len(gs))
    (sz, c, s), n = gs[i]
    wc = other(rng, c, [x for x in COLOURS if sc.count(colour=x, shape=s, size=sz) == 0 or x == c] or COLOURS)
    bad = list(parts)
    bad[i] = group_phrase((sz, wc, s), n)
    if sc.count(colour=wc, shape=s, size=sz) == 0:
        out.append(item(q, f"The scene is set {env}. The image shows {joinand(bad)}.", True, "plain",
                        fact + f"; answer gives {wc} for the {c} {s}"))
        if SHPSYN[s] or COLSYN[wc]:
            syn_c = pick(rng, COLSYN[wc])
            bad2 = list(parts)
            bad2[i] = (f"{numw(n)} {sz} {syn_c} {plural(s)}" if n > 1 else f"{art(sz)} {sz} {syn_c} {s}")
            out.append(item(q, f"{cap(joinand(bad2))} {env}.", True, "synonym",
                            fact + f"; '{syn_c}' is a synonym of {wc}, which is false"))
    # extra absent shape
    ab = sc.absent_shapes()
    if ab:
        s2 = pick(rng, ab)
        c2 = pick(rng, COLOURS)
        out.append(item(q, f"The scene is set {env}. The image shows {joinand(parts + [f'{art(c2)} {c2} {s2}'])}.",
                        True, "plain", fact + f"; no {s2}"))
        # exploit: false sentence padded with true ones
        true_s = [f"The scene is set {env}.", f"There {'is' if sc.n == 1 else 'are'} {counted(sc.n, 'object')}.",
                  f"The image shows {joinand(parts)}."]
        out.append(item(q, " ".join(true_s[:2]) + f" There is also {art(c2)} {c2} {s2}. " + true_s[2], True,
                        "exploit", fact + f"; false sentence (no {s2}) padded with true ones"))
        out.append(item(q, hedge(rng, f"there is {art(c2)} {c2} {s2} here.") + " " + " ".join(true_s), True,
                        "exploit", fact + f"; hedged false prefix (no {s2})"))
    # wrong environment
    w = other(rng, sc.env, ENVS)
    out.append(item(q, f"The scene is set {pick(rng, ENVP[w])}. The image shows {joinand(parts)}.", True, "plain",
                    fact + f"; answer says environment {w}"))
    out.append(item(q, f"I'm not certain, but the scene seems to be set {pick(rng, ENVP[w])}; it shows "
                       f"{joinand(parts)}.", True, "negation", fact + f"; hedge; environment {w} false"))
    # wrong total count
    out.append(item(q, f"The scene is set {env}. There are {counted(sc.n + 1, 'object')} in total: {joinand(parts)}.",
                    True, "plain", fact + f"; total is {sc.n}"))
    # OOV object
    t = pick(rng, OOV)
    out.append(item(q, f"{cap(joinand(parts))} {env}. {cap(art(t))} {t} sits near the {pick(rng, sc.shapes())}.",
                    True, "oov", fact + f"; no {t}"))
    out.append(item(q, f"{cap(joinand(parts))} {env}. There is no {t} and no {pick(rng, OOV)}.", False, "exploit",
                    fact + "; true description plus true denials"))
    # quantifier claims
    cols = sc.colours()
    if len(cols) == 1:
        out.append(item(q, f"Every shape here is {cols[0]}, {env}.", False, "quantifier", fact))
    else:
        out.append(item(q, f"{cap(env)}; every shape is {cols[0]}.", True, "quantifier", fact))
    sizes = {o["size"] for o in sc.objs}
    if len(sizes) == 2:
        out.append(item(q, f"{cap(joinand(parts))}. All of the shapes are large.", True, "quantifier", fact))
    # relation sentences between two uniquely named objects
    uo = sc.unique_objs()
    pairs = [(a, b) for a in uo for b in uo if a[0] is not b[0] and (horizontal(a[0], b[0]) or vertical(a[0], b[0]))]
    if pairs:
        (o1, r1), (o2, r2) = pick(rng, pairs)
        rel = horizontal(o1, o2) or vertical(o1, o2)
        n1, n2 = refname(r1), refname(r2)
        f2 = fact + f"; {n1} ({o1['x']},{o1['y']}) is {rel} of/than {n2} ({o2['x']},{o2['y']})"
        out.append(item(q, f"{describe(rng, sc, 'full')} The {n1} is {pick(rng, REL_PHRASES[rel])} the {n2}.", False,
                        "plain", f2))
        out.append(item(q, f"{describe(rng, sc, 'full')} The {n1} is {pick(rng, REL_PHRASES[OPP[rel]])} the {n2}.",
                        True, "plain", f2 + "; answer reverses it"))
        long_true = (f"What a tidy picture! {describe(rng, sc, 'full')} If you look closely, the {n1} is "
                     f"{pick(rng, REL_PHRASES[rel])} the {n2}. Nothing else is in the frame — just the shapes and "
                     f"the background, which is {pick(rng, ENVN[sc.env])}.")
        out.append(item(q, long_true, False, "plain", f2 + "; long chatty description"))
    # position sentence
    if uo:
        o, ref = pick(rng, uo)
        tr, fr = true_regions(o), false_regions(o)
        if tr:
            out.append(item(q, f"{describe(rng, sc, 'full')} The {refname(ref)} is "
                               f"{pick(rng, REGION_PHRASES[pick(rng, tr)])}.", False, "position",
                            fact + f"; {refname(ref)} at ({o['x']},{o['y']})"))
        if fr:
            out.append(item(q, f"{describe(rng, sc, 'full')} The {refname(ref)} is "
                               f"{pick(rng, REGION_PHRASES[pick(rng, fr)])}.", True, "position",
                            fact + f"; {refname(ref)} at ({o['x']},{o['y']})"))
    return out


# ---------------------------------------------------------------- other (quantifiers, most common)
MOSTQ = ["Which colour appears most often in the image?", "What is the most common colour?",
         "which colour is most frequent"]
SAMEQ = ["Are all the objects the same colour?", "Are they all the same colour?",
         "Do all the shapes share one colour?"]
def gen_other(rng, sc):
    out = []
    cc = {c: sc.count(colour=c) for c in sc.colours()}
    top = max(cc.values())
    tops = [c for c, k in cc.items() if k == top]
    q = pick(rng, MOSTQ)
    if len(tops) == 1:
        c = tops[0]
        w = other(rng, c, COLOURS, sc.colours())
        fact = f"colour counts {cc}"
        out += [item(q, pick(rng, [f"{cap(c)}.", f"{cap(c)} appears most often.", f"{c}"]), False,
                     "quantifier", fact),
                item(q, pick(rng, [f"{cap(w)}.", f"{cap(w)} appears most often.", f"{w}"]), True,
                     "quantifier", fact),
                item(q, f"{cap(c)} appears most often: there {'is' if top == 1 else 'are'} "
                        f"{counted(top, c + ' object')}.", False, "plain", fact),
                item(q, f"{cap(c)} appears most often: there are {counted(top + 1, c + ' object')}.", True, "plain",
                     fact + f"; {top} not {top + 1}")]
        if COLSYN[c]:
            out.append(item(q, f"{cap(pick(rng, COLSYN[c]))}.", False, "synonym", fact))
        maj = top * 2 > sc.n
        out.append(item(q, f"{cap(c)}: the majority of the shapes are {c}.", not maj, "quantifier",
                        fact + f"; {top} of {sc.n} is {'' if maj else 'not '}a majority"))
    else:
        fact = f"colour counts {cc} (tie)"
        out.append(item(q, f"There is a tie: {joinand(tops)} each appear {numw(top)} time{'s' if top > 1 else ''}.",
                        False, "quantifier", fact))
        out.append(item(q, f"{cap(tops[0])} clearly dominates; most of the shapes are {tops[0]}.", True,
                        "quantifier", fact))
    # all same colour
    q = pick(rng, SAMEQ)
    cols = sc.colours()
    fact = f"colours {cols}"
    if len(cols) == 1:
        out += [item(q, pick(rng, [f"Yes, they are all {cols[0]}.", "Yes.", f"Yes, every one of them is {cols[0]}."]),
                     False, "quantifier", fact),
                item(q, "No, they are different colours.", True, "quantifier", fact)]
    else:
        out += [item(q, pick(rng, [f"No. The objects are {joinand(cols)}.", "No.", "No, the colours differ."]), False,
                     "negation", fact),
                item(q, pick(rng, [f"Yes, they are all {cols[0]}.", "Yes."]), True, "quantifier", fact)]
    # all / every / each / none / only / both
    o = pick(rng, sc.objs)
    s = o["shape"]
    ms = sc.match(shape=s)
    cs = {x["colour"] for x in ms}
    q = pick(rng, [f"Are all the {plural(s)} {o['colour']}?", f"Is every {s} {o['colour']}?"])
    allc = len(cs) == 1
    if len(ms) >= 2:
        out.append(item(q, f"Yes, every {s} is {o['colour']}.", not allc, "quantifier",
                        f"{s} colours {[x['colour'] for x in ms]}"))
        out.append(item(q, f"No, not all of them: {'' if allc else 'some are ' + joinand(sorted(cs - {o['colour']}))}"
                        if not allc else "No, some are a different colour.", allc, "quantifier",
                        f"{s} colours {[x['colour'] for x in ms]}"))
    if len(ms) == 2:
        q = f"Are both {plural(s)} the same size?"
        same = ms[0]["size"] == ms[1]["size"]
        out.append(item(q, f"Yes, both are {ms[0]['size']}." if same else "Yes, both are the same size.",
                        not same, "quantifier", f"{s} sizes {[x['size'] for x in ms]}"))
        out.append(item(q, "No, one is large and one is small." if not same else "No, they differ in size.", same,
                        "quantifier", f"{s} sizes {[x['size'] for x in ms]}"))
    # only
    c = pick(rng, sc.colours())
    mc = sc.match(colour=c)
    q = f"Which objects are {c}?"
    if len(mc) == 1:
        r = sc.ref(mc[0])
        if r:
            out.append(item(q, f"Only the {refname(r)} is {c}.", False, "quantifier", f"{c} objects: 1"))
    else:
        kinds = sorted({x["shape"] for x in mc})
        out.append(item(q, f"Only one object is {c}.", True, "quantifier",
                        f"{len(mc)} {c} objects, shapes {[x['shape'] for x in mc]}"))
        out.append(item(q, f"There are {counted(len(mc), c + ' object')}: " +
                        joinand([counted_a(sc.count(colour=c, shape=k), k) for k in kinds]) + ".", False, "plain",
                        f"{c} objects by shape"))
    # none
    ac = [x for x in COLOURS if sc.count(colour=x) == 0]
    if ac:
        x = pick(rng, ac)
        q = pick(rng, [f"Are any of the shapes {x}?", f"Is any object {x}?"])
        out += [item(q, pick(rng, [f"No, none of them is {x}.", "None are.", f"No — there's nothing {x} here."]),
                     False, "negation", f"no {x} object"),
                item(q, f"Yes, the {pick(rng, sc.shapes())} is {x}.", True, "quantifier", f"no {x} object")]
    # all large / all small
    sizes = [x["size"] for x in sc.objs]
    q = pick(rng, ["Are all the shapes large?", "Is every shape large?"])
    all_l = all(z == "large" for z in sizes)
    out.append(item(q, "Yes, each of them is large." if True else "", not all_l, "quantifier", f"sizes {sizes}"))
    out.append(item(q, pick(rng, ["No.", "No, not all of them."]) if not all_l else "No, some are small.", all_l,
                    "quantifier", f"sizes {sizes}"))
    nl = sizes.count("large")
    if nl * 2 != sc.n:
        maj = "large" if nl * 2 > sc.n else "small"
        mn = "small" if maj == "large" else "large"
        out.append(item("Are most of the shapes large or small?", f"Most of them are {maj}.", False, "quantifier",
                        f"{nl} large of {sc.n}"))
        out.append(item("Are most of the shapes large or small?", f"The majority are {mn}.", True, "quantifier",
                        f"{nl} large of {sc.n}"))
    # most common shape
    sh = {s: sc.count(shape=s) for s in sc.shapes()}
    tops = [s for s, k in sh.items() if k == max(sh.values())]
    if len(tops) == 1 and sc.n > 1:
        q = "What is the most common shape?"
        w = other(rng, tops[0], SHAPES, sc.shapes())
        out += [item(q, f"The {tops[0]}.", False, "plain", f"shape counts {sh}"),
                item(q, f"{cap(plural(w))} are the most common.", True, "plain", f"shape counts {sh}")]
    return out


# ---------------------------------------------------------------- POPE
YES_FORMS = ["Yes.", "Yes, there is.", "yes", "Yes, I can see one.", "There is one, yes.", "Yep, there's one.",
             "Yes, it's there.", "Sure, there is one.", "yes there is", "Correct, there is one.",
             "Yes — I can spot it easily."]
NO_FORMS = ["No.", "No, there isn't.", "Definitely not.", "That one is absent.", "nope", "Not that I can see.",
            "No, there is none.", "no", "No, I can't find one.", "There isn't one.", "Absolutely not.",
            "No, nothing like that is in the picture."]


def pope_answers(rng, sc, q, c, s, label):
    """c may be None (shape only) or s may be an OOV thing."""
    name = f"{c} {s}" if c else s
    ms = sc.match(shape=s, colour=c) if s in SHAPES else []
    out = []
    mk = lambda a, says, h, cls, note: dict(item(q, a, h, cls, note), says=says, label=label)
    fact = f"{len(ms)} {name}(s); label {label}"
    for says in ("yes", "no"):
        h = says != label
        out.append(mk(pick(rng, YES_FORMS if says == "yes" else NO_FORMS), says, h, "plain", fact))
        if says == "yes":
            out.append(mk(hedge(rng, "I think so."), "yes", h, "negation", fact + "; hedge then yes"))
            out.append(mk(hedge(rng, f"there is {art(name)} {name}."), "yes", h, "negation", fact + "; hedge"))
        else:
            rest = [o for o in sc.objs if o not in ms]
            if label == "yes" and rest:
                o2 = pick(rng, rest)
                out.append(mk(f"No, I only see other shapes, like {art(o2['colour'])} {o2['colour']} {o2['shape']}.",
                              "no", True, "plain", fact + "; denies a present object"))
            out.append(mk(f"I see no {name}.", "no", h, "negation", fact))
            out.append(mk(f"There is no {name} in the image.", "no", h, "negation", fact))
            out.append(mk(hedge(rng, "I don't think there is one."), "no", h, "negation", fact + "; hedged no"))
    if ms:
        o = ms[0]
        tr = [r for r in REGIONS if any(region_status(m, r) == "in" for m in ms)]
        fr = [r for r in REGIONS if all(region_status(m, r) == "out" for m in ms)]
        if tr:
            out.append(mk(f"Yes, there is one {pick(rng, REGION_PHRASES[pick(rng, tr)])}.", "yes", False, "position",
                          fact + f"; positions {[(m['x'], m['y']) for m in ms]}"))
        if fr:
            out.append(mk(f"Yes, there is one {pick(rng, REGION_PHRASES[pick(rng, fr)])}.", "yes", True, "position",
                          fact + f"; positions {[(m['x'], m['y']) for m in ms]}"))
        sizes = {m["size"] for m in ms}
        wsz = [z for z in SIZES if z not in sizes]
        out.append(mk(f"Yes, a {pick(rng, SIZESYN[o['size']])} one.", "yes", False, "synonym", fact + f"; sizes {sizes}"))
        if wsz:
            out.append(mk(f"Yes, there's a {wsz[0]} one.", "yes", True, "plain", fact + f"; sizes {sizes}"))
        if c and COLSYN[c]:
            syn = pick(rng, COLSYN[c])
            out.append(mk(f"Yes, I can see {art(syn)} {syn} {s}.", "yes", False, "synonym", fact))
        out.append(mk(f"Yes, there {'is' if len(ms) == 1 else 'are'} {counted(len(ms), name)}.", "yes", False,
                      "plain", fact))
        out.append(mk(f"Yes, there are {counted(len(ms) + 1, name)}.", "yes", True, "plain", fact + "; count wrong"))
    else:
        if s in SHAPES and c:
            others = sc.match(shape=s)
            if others:
                oc = others[0]["colour"]
                out.append(mk(f"No, but there is {art(oc)} {oc} {s}.", "no", False, "negation",
                              fact + f"; a {oc} {s} exists"))
            free = [x for x in COLOURS if x != c and sc.count(shape=s, colour=x) == 0]
            if free:
                x = pick(rng, free)
                out.append(mk(f"No, but there is {art(x)} {x} {s}.", "no", True, "negation", fact + f"; no {x} {s}"))
            if COLSYN[c]:
                syn = pick(rng, COLSYN[c])
                out.append(mk(f"Yes, there is {art(syn)} {syn} {s}.", "yes", True, "synonym", fact))
        if s not in SHAPES:
            out.append(mk(f"No, there isn't any {s}.", "no", False, "negation", fact + "; out-of-vocabulary thing"))
            out.append(mk(f"Yes, {art(s)} {s} is {pick(rng, REGION_PHRASES['right side'])}.", "yes", True, "oov", fact))
        junk = rng.sample(OOV, 2)
        out.append(mk(f"There is no {junk[0]}. There is no {junk[1]}. There is no {name}.", "no", False, "exploit",
                      fact + "; list of true denials"))
    return out


def pope_own(rng, sc):
    out = []
    o = pick(rng, sc.objs)
    q = f"Is there {art(o['colour'])} {o['colour']} {o['shape']} in the image?"
    out += pope_answers(rng, sc, q, o["colour"], o["shape"], "yes")
    combos = sc.absent_combos(True) if rng.random() < 0.6 else sc.absent_combos(False)
    combos = combos or sc.absent_combos(True) or sc.absent_combos(False)
    c, s = pick(rng, combos)
    q = pick(rng, [f"Is there {art(c)} {c} {s} in the image?", f"Is there {art(c)} {c} {s} in the picture?"])
    out += pope_answers(rng, sc, q, c, s, "no")
    t = pick(rng, OOV)
    q = pick(rng, [f"Is there {art(t)} {t} in the image?", f"Is there {art(t)} {t} {ENVQ[sc.env]}?"])
    out += pope_answers(rng, sc, q, None, t, "no")
    return out


# ---------------------------------------------------------------- dataset questions
def parse_ref(sc, text):
    """'large red circle' -> (obj, ref) if unique in scene."""
    ws = text.split()
    kw = {}
    for w in ws:
        w2 = w[:-2] if w.endswith("es") and w[:-2] in SHAPES else (w[:-1] if w.endswith("s") and w[:-1] in SHAPES else w)
        if w2 in SHAPES:
            kw["shape"] = w2
        elif w in COLOURS:
            kw["colour"] = w
        elif w in SIZES:
            kw["size"] = w
    return kw


def dataset_items(rng, sc, mq):
    q = mq["question"]
    t = mq["question_type"]
    m = re.match(r"What colour is the (.+)\?$", q)
    if m:
        kw = parse_ref(sc, m.group(1))
        ms = sc.match(**kw)
        if len(ms) == 1:
            return attribute_colour(rng, sc, ms[0], kw, q)
        if not ms:
            return adversarial_absent(rng, sc, kw, q, "colour")
        return []
    m = re.match(r"What size is the (.+)\?$", q)
    if m:
        kw = parse_ref(sc, m.group(1))
        ms = sc.match(**kw)
        if len(ms) == 1:
            return attribute_size(rng, sc, ms[0], kw, q)
        return adversarial_absent(rng, sc, kw, q, "size") if not ms else []
    m = re.match(r"What shape is the (.+) object\?$", q)
    if m:
        kw = parse_ref(sc, m.group(1))
        ms = sc.match(**kw)
        if len(ms) == 1:
            return attribute_shape(rng, sc, ms[0], dict(kw, shape=ms[0]["shape"]), q)
        return []
    if q.startswith("What colours are the objects"):
        return attribute_all_colours(rng, sc, q)
    m = re.match(r"Where (?:is|are) the (.+) in the image\?$", q)
    if m:
        kw = parse_ref(sc, m.group(1))
        ms = sc.match(**kw)
        if len(ms) == 1:
            return rel_where(rng, sc, ms[0], kw, q)
        if not ms:
            return adversarial_absent(rng, sc, kw, q, "where")
        return []
    m = re.match(r"(?:What is the position of|Where is) the (.+) relative to the (.+)\?$", q)
    if m:
        k1, k2 = parse_ref(sc, m.group(1)), parse_ref(sc, m.group(2))
        a, b = sc.match(**k1), sc.match(**k2)
        if len(a) == 1 and len(b) == 1:
            return rel_relative(rng, sc, a[0], k1, b[0], k2, q)
        return []
    m = re.match(r"Are there more (\w+) objects than (\w+) objects\?$", q)
    if m:
        return cmp_more(rng, sc, m.group(1), m.group(2), "colour", q)
    m = re.match(r"Are there more (\w+) than (\w+)\?$", q)
    if m:
        A, B = parse_ref(sc, m.group(1))["shape"], parse_ref(sc, m.group(2))["shape"]
        return cmp_more(rng, sc, A, B, "shape", q)
    m = re.match(r"Which is larger, the (.+) or the (.+)\?$", q)
    if m:
        k1, k2 = parse_ref(sc, m.group(1)), parse_ref(sc, m.group(2))
        a, b = sc.match(**k1), sc.match(**k2)
        if len(a) == 1 and len(b) == 1:
            return [x for x in cmp_size(rng, sc, a[0], k1, b[0], k2, q) if x["q"] == q]
        return []
    m = re.match(r"How many (.+) are there in the image\?$", q)
    if m:
        kw = parse_ref(sc, m.group(1))
        if m.group(1) == "objects":
            return count_answers(rng, q, sc.n, "object", f"{sc.n} objects")
        n = sc.count(**kw)
        noun = " ".join(kw[k] for k in ("colour", "shape") if k in kw)
        return count_answers(rng, q, n, noun, f"{n} {noun}(s)")
    if t == "environment":
        return env_answers(rng, sc, q)
    if t == "holistic":
        return [dict(x, q=q) for x in gen_holistic(rng, sc)]
    fam = MOSTQ if q.startswith("Which colour appears most often") else \
        SAMEQ if q.startswith("Are all the objects the same colour") else None
    if fam:
        return [dict(x, q=q) for x in gen_other(rng, sc) if x["q"] in fam]
    return []


# ---------------------------------------------------------------- assembly
GENS = {"attribute": gen_attribute, "adversarial": gen_adversarial, "comparison": gen_comparison,
        "counting": gen_counting, "relation": gen_relation, "environment": gen_environment,
        "holistic": gen_holistic, "other": gen_other, "pope": pope_own}


def padded(rng, sc, cands):
    """Exploit probes: wrap plain answers in true sentences (a fixed true prefix or suffix, true
    denials, a true environment or count). Padding must not change the verdict either way."""
    out = []
    plain = [c for c in cands if c["cls"] in ("plain", "position", "quantifier") and "\n" not in c["a"]]
    rng.shuffle(plain)
    for c in plain[:4]:
        t1, t2 = rng.sample(OOV, 2)
        pads = [
            ("pre", f"The scene is set {pick(rng, ENVP[sc.env])}."),
            ("pre", f"There {'is' if sc.n == 1 else 'are'} {counted(sc.n, 'object')} in this picture."),
            ("pre", "I looked at the image carefully."),
            ("pre", f"There is no {t1}. There is no {t2}."),
            ("suf", f"The background is {pick(rng, ENVN[sc.env])}."),
            ("suf", f"There is no {t1} anywhere."),
            ("suf", f"In total there {'is' if sc.n == 1 else 'are'} {counted(sc.n, 'shape')}."),
            ("suf", "I hope this helps!"),
        ]
        where, pad = pick(rng, pads)
        a = c["a"] if c["a"][-1] in ".!?" else c["a"] + "."
        text = f"{pad} {a}" if where == "pre" else f"{a} {pad}"
        out.append(item(c["q"], text, c["h"], "exploit",
                        c["note"] + f"; padded with a true {'prefix' if where == 'pre' else 'suffix'}"))
    return out


def choose(rng, cands, k_true, k_false):
    """k answers of each label, spreading over classes (round-robin on class)."""
    chosen = []
    for want_h, k in ((False, k_true), (True, k_false)):
        pool = [c for c in cands if c["h"] == want_h]
        rng.shuffle(pool)
        by = {}
        for c in pool:
            by.setdefault(c["cls"], []).append(c)
        classes = list(by)
        rng.shuffle(classes)
        i = 0
        while len([c for c in chosen if c["h"] == want_h]) < k and any(by.values()):
            cl = classes[i % len(classes)]
            i += 1
            if by[cl]:
                chosen.append(by[cl].pop())
    return chosen


def main(data_dir, out_dir):
    rng = random.Random(20261202)
    ann = json.load(open(os.path.join(data_dir, "annotations.json")))
    by_id = {r["id"]: r for r in ann}
    mmhal = json.load(open(os.path.join(data_dir, "mmhal_eval.json")))
    pope = []
    for f in ("pope_random.json", "pope_popular.json", "pope_adversarial.json"):
        pope += [dict(json.loads(l), src=f) for l in open(os.path.join(data_dir, f)) if l.strip()]
    eval_ids = sorted({q["image_id"] for q in mmhal})
    others = [r["id"] for r in ann if r["id"] not in eval_ids]
    extra = sorted(rng.sample(others, 52))
    scene_ids = eval_ids + extra
    rows = []
    seen = set()

    def add(sc, qtype, it, source):
        key = (sc.id, it["q"], it["a"])
        if key in seen:
            return
        seen.add(key)
        row = {"id": "", "image_id": sc.id, "question_type": qtype, "question": it["q"], "answer": it["a"],
               "hallucinated": it["h"], "class": it["cls"], "note": it["note"] + f"; question from {source}"}
        if qtype == "pope":
            row["pope_label"] = it["label"]
            row["answer_says"] = it["says"]
        rows.append(row)

    for sid in scene_ids:
        sc = Scene(by_id[sid])
        for qtype, gen in GENS.items():
            cands = gen(rng, sc)
            if qtype != "pope":
                cands += padded(rng, sc, cands)
            for it in choose(rng, cands, 1, 1 if qtype not in ("pope",) else 1):
                add(sc, qtype, it, "own")
            if qtype in ("pope",):
                # a second pair from the probe whose label is 'yes', so both labels get right and wrong answers
                for it in choose(rng, [c for c in cands if c["label"] == "yes"], 1, 1):
                    add(sc, qtype, it, "own")
        if sid in eval_ids:
            for mq in [q for q in mmhal if q["image_id"] == sid]:
                cands = dataset_items(rng, sc, mq)
                cands = [c for c in cands if c["q"] == mq["question"]]
                for it in choose(rng, cands, 1, 1):
                    add(sc, mq["question_type"], it, "dataset")
            probes = [p for p in pope if p["image"] == sc.rec["image"]]
            for p in rng.sample(probes, min(6, len(probes))):
                text = p["text"]
                mm = re.match(r"Is there an? (\w+) (\w+) in the image\?$", text)
                if not mm:
                    continue
                cands = pope_answers(rng, sc, text, mm.group(1), mm.group(2), p["label"])
                for it in choose(rng, cands, 1, 0) if rng.random() < 0.5 else choose(rng, cands, 0, 1):
                    add(sc, "pope", it, "dataset " + p["src"])
    from handwritten import HANDWRITTEN
    for h in HANDWRITTEN:
        sid = "shapes-000" + h[0]
        it = item(h[2], h[3], h[4], h[5], h[6])
        if h[1] == "pope":
            it["label"], it["says"] = h[7], h[8]
        add(Scene(by_id[sid]), h[1], it, "own, hand-written")
    for i, r in enumerate(rows):
        r["id"] = f"ind-{i + 1:04d}"
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "answers.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(os.path.join(out_dir, "annotations.json"), "w") as f:
        json.dump([by_id[s] for s in scene_ids], f, indent=1)
        f.write("\n")
    print(len(rows), "answers over", len(scene_ids), "scenes")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
