"""Shared scene facts and wording for the independent judge answer set.

Written from the annotation format alone (no judge code read). Every label is computed from the
scene's annotation; every position claim is made only where the object is at least MARGIN away from
each region boundary involved, so the label is unambiguous.
"""
import random

SHAPES = ["circle", "square", "triangle", "diamond", "star", "cross"]
COLOURS = ["red", "green", "blue", "yellow", "purple", "orange"]
SIZES = ["small", "large"]
ENVS = ["field", "beach", "snow", "night", "room"]
MARGIN = 0.05

COLSYN = {"red": ["crimson", "scarlet"], "green": ["emerald", "lime"], "blue": ["navy", "azure"],
          "yellow": ["lemon", "golden"], "purple": ["violet", "lilac"], "orange": ["tangerine"]}
SHPSYN = {"circle": ["dot", "disc"], "square": ["box"], "cross": ["plus sign", "X"],
          "star": ["pentagram"], "diamond": ["rhombus", "lozenge"], "triangle": []}
SIZESYN = {"large": ["sizeable", "big", "huge"], "small": ["petite", "tiny", "little"]}
PLURAL = {"cross": "crosses", "box": "boxes", "rhombus": "rhombuses", "X": "X shapes"}
NUMW = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]

# Things that never occur in the shapes world (the scenes hold only the six shapes on a background).
OOV = ["kite", "dog", "cat", "lamp", "sled", "ball", "car", "tree", "bird", "chair", "umbrella",
       "boat", "snowman", "cup", "book", "flower", "bicycle", "rock", "shell", "candle"]

# Environment: (predicate phrases that are fair descriptions, noun phrases)
ENVP = {
    "field": ["in a grassy field", "in a grassy meadow", "on grass", "in a field", "on a lawn"],
    "beach": ["on a sandy beach", "at the beach", "on sand", "on the beach"],
    "snow": ["in a snowy landscape", "in the snow", "on a snowfield", "on snow-covered ground"],
    "night": ["under a starless night sky", "at night", "against a dark night sky", "in the night"],
    "room": ["in a room with a wooden floor", "indoors on a wooden floor", "inside a room",
             "in a wooden-floored room"],
}
ENVN = {
    "field": ["a grassy field", "a meadow", "grass", "a field of grass"],
    "beach": ["a sandy beach", "sand", "a beach"],
    "snow": ["a snowy landscape", "snow", "a snowfield", "snowy ground"],
    "night": ["a starless night sky", "a night sky", "the dark night sky"],
    "room": ["a room with a wooden floor", "a wooden floor", "an indoor room"],
}
ENVQ = {"field": "in a field", "beach": "on a beach", "snow": "in the snow", "night": "at night",
        "room": "indoors"}
ENVSET = {"field": "grass", "beach": "the sand", "snow": "the snow", "night": "a night-sky background",
          "room": "the wooden floor"}

# Regions. Each region is a list of (axis, lo, hi): the coordinate lies in [lo, hi].
T = 1 / 3
REGIONS = {
    "top-left corner": [("x", 0, T), ("y", 0, T)],
    "top-right corner": [("x", 2 * T, 1), ("y", 0, T)],
    "bottom-left corner": [("x", 0, T), ("y", 2 * T, 1)],
    "bottom-right corner": [("x", 2 * T, 1), ("y", 2 * T, 1)],
    "middle": [("x", T, 2 * T), ("y", T, 2 * T)],
    "left side": [("x", 0, 0.5)],
    "right side": [("x", 0.5, 1)],
    "top": [("y", 0, 0.5)],
    "bottom": [("y", 0.5, 1)],
}
REGION_PHRASES = {
    "top-left corner": ["in the top-left corner", "up in the top left corner", "in the upper-left corner",
                        "tucked into the top-left corner of the image"],
    "top-right corner": ["in the top-right corner", "in the upper right corner", "up in the top right corner"],
    "bottom-left corner": ["in the bottom-left corner", "in the lower left corner",
                           "down in the bottom left corner"],
    "bottom-right corner": ["in the bottom-right corner", "in the lower-right corner",
                            "down in the bottom right corner of the picture"],
    "middle": ["in the middle of the image", "right in the centre", "in the center of the picture",
               "in the middle"],
    "left side": ["on the left side of the image", "on the left", "on the left-hand side of the picture"],
    "right side": ["on the right side of the image", "on the right", "on the right-hand side of the picture"],
    "top": ["at the top of the image", "in the upper half of the picture", "at the top"],
    "bottom": ["at the bottom of the image", "in the lower half of the picture", "at the bottom"],
}


def axis_status(v, lo, hi):
    """'in' when v is inside [lo, hi] by MARGIN from every internal boundary, 'out' when outside by
    MARGIN, else 'amb'. The image edges 0 and 1 are not boundaries."""
    lo_in = lo == 0 or v >= lo + MARGIN
    hi_in = hi == 1 or v <= hi - MARGIN
    if lo_in and hi_in:
        return "in"
    if (lo > 0 and v <= lo - MARGIN) or (hi < 1 and v >= hi + MARGIN):
        return "out"
    return "amb"


def region_status(o, region):
    st = [axis_status(o[a], lo, hi) for a, lo, hi in REGIONS[region]]
    if all(s == "in" for s in st):
        return "in"
    if any(s == "out" for s in st):
        return "out"
    return "amb"


def art(word):
    return "an" if (word[0] in "aeiou" or word == "X") else "a"


def plural(noun):
    """Plural of a noun phrase: only its last word changes ('purple cross' -> 'purple crosses')."""
    head, _, last = noun.rpartition(" ")
    return (head + " " if head else "") + PLURAL.get(last, last + "s")


def cap(s):
    return s[0].upper() + s[1:]


def numw(n, digits=False):
    if digits:
        return str(n)
    return NUMW[n] if n < len(NUMW) else str(n)


def counted(n, noun, digits=False):
    """'no stars', 'one star', 'three stars'."""
    if n == 1:
        return ("1 " if digits else "one ") + noun
    return numw(n, digits) + " " + plural(noun)


def counted_a(n, noun):
    """'a star' for one, else 'three stars'."""
    return (art(noun) + " " + noun) if n == 1 else counted(n, noun)


class Scene:
    def __init__(self, rec):
        self.rec = rec
        self.id = rec["id"]
        self.env = rec["environment"]
        self.objs = rec["objects"]
        self.n = len(self.objs)

    def match(self, shape=None, colour=None, size=None):
        return [o for o in self.objs if (shape is None or o["shape"] == shape)
                and (colour is None or o["colour"] == colour) and (size is None or o["size"] == size)]

    def count(self, **kw):
        return len(self.match(**kw))

    def colours(self):
        return sorted({o["colour"] for o in self.objs}, key=COLOURS.index)

    def shapes(self):
        return sorted({o["shape"] for o in self.objs}, key=SHAPES.index)

    def ref(self, o, exclude=()):
        """Shortest description that picks out o alone (not using the attributes in exclude, so a
        question never names its own answer): a dict of attributes, or None."""
        for keys in (("shape",), ("colour", "shape"), ("size", "shape"), ("size", "colour", "shape")):
            if any(k in exclude for k in keys):
                continue
            kw = {k: o[k] for k in keys}
            if self.count(**kw) == 1:
                return kw
        return None

    def unique_objs(self, exclude=()):
        return [(o, self.ref(o, exclude)) for o in self.objs if self.ref(o, exclude) is not None]

    def absent_shapes(self):
        return [s for s in SHAPES if self.count(shape=s) == 0]

    def absent_combos(self, shape_present=True):
        """(colour, shape) pairs absent from the scene whose shape is (or is not) present."""
        out = []
        for s in SHAPES:
            if (self.count(shape=s) > 0) != shape_present:
                continue
            for c in COLOURS:
                if self.count(shape=s, colour=c) == 0:
                    out.append((c, s))
        return out


def refname(ref, syn=None, rng=None):
    """'large red circle' from a referent dict; syn: replace words by synonyms where available."""
    words = []
    for k in ("size", "colour", "shape"):
        if k in ref:
            w = ref[k]
            if syn and rng is not None:
                table = {"size": SIZESYN, "colour": COLSYN, "shape": SHPSYN}[k]
                if table.get(w):
                    w = rng.choice(table[w])
            words.append(w)
    return " ".join(words)


def other(rng, value, pool, prefer=None):
    cands = [v for v in pool if v != value]
    if prefer:
        p = [v for v in prefer if v != value]
        if p and rng.random() < 0.7:
            return rng.choice(p)
    return rng.choice(cands)


def true_regions(o):
    return [r for r in REGIONS if region_status(o, r) == "in"]


def false_regions(o):
    return [r for r in REGIONS if region_status(o, r) == "out"]


def horizontal(a, b, min_gap=0.15):
    """'left'/'right' when a is clearly left/right of b and horizontal offset dominates, else None."""
    dx, dy = a["x"] - b["x"], a["y"] - b["y"]
    if abs(dx) >= min_gap and abs(dx) > abs(dy):
        return "left" if dx < 0 else "right"
    return None


def vertical(a, b, min_gap=0.15):
    dx, dy = a["x"] - b["x"], a["y"] - b["y"]
    if abs(dy) >= min_gap and abs(dy) > abs(dx):
        return "above" if dy < 0 else "below"
    return None


OPP = {"left": "right", "right": "left", "above": "below", "below": "above"}
REL_PHRASES = {
    "left": ["to the left of", "left of", "on the left of"],
    "right": ["to the right of", "right of", "on the right of"],
    "above": ["above", "higher up than", "over"],
    "below": ["below", "beneath", "lower down than", "under"],
}


def pick(rng, xs):
    return rng.choice(xs)
