"""Photo themes scored from ImageNet logits.

A theme is a set of ImageNet-1k classes; its score for a photo is the softmax
probability the classifier puts on those classes (after a temperature), so a cat
photo split between "tabby" 0.4, "tiger cat" 0.3 and "Egyptian cat" 0.2 still
scores 0.9 for pets. Every class belongs to at most one theme and most belong to
none (tools, furniture, gadgets), so a photo's theme scores add up to at most 1.

ImageNet has no "person" class: people & portraits only gets the clothes and
accessories that mostly appear on people, and is meant to be lifted by a face
count (``score_themes(..., faces=...)``) once the faces module supplies one.

The taxonomy and its calibration are documented in docs/themes.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from curation.taxonomy import THEME_TITLES, THEMES, Theme
from curation.vision.imagenet_classes import N_CLASSES, class_index


# The theme names live in the light ``curation.taxonomy`` (settings import them without numpy).
# Members are index ranges (contiguous blocks of the ImageNet animal taxonomy),
# single indices (for the two ambiguous names, "crane" and "maillot"), or class
# names: the first lemma of the class description, checked by tests to resolve.
ClassRef = range | int | str

THEME_CLASSES: dict[Theme, tuple[ClassRef, ...]] = {
    Theme.BEACH_SEA: (
        # sea life: a photo of it is a snorkelling or seaside photo
        range(1, 7),  # goldfish (mostly reef fish to the model), sharks, rays
        range(33, 35),  # loggerhead, leatherback turtle
        range(107, 110),  # jellyfish, sea anemone, brain coral
        "conch", "sea slug", "chiton", "chambered nautilus", "rock crab", "fiddler crab",
        "hermit crab", "isopod",
        range(147, 151),  # grey whale, killer whale, dugong, sea lion
        range(327, 330),  # starfish, sea urchin, sea cucumber
        range(389, 398),  # barracouta ... puffer
        # coast and sea
        "seashore", "sandbar", "promontory", "coral reef", "scuba diver", "snorkel", "breakwater",
        "pier", "beacon", "boathouse", "wreck",
        # boats on the water
        "canoe", "catamaran", "container ship", "fireboat", "lifeboat", "liner", "pirate",
        "schooner", "speedboat", "submarine", "trimaran", "yawl", "paddle", "paddlewheel",
        # beachwear
        "bikini", 638, 639, "swimming trunks", "sarong", "sunscreen",
    ),
    Theme.MOUNTAINS_NATURE: (
        "alp", "cliff", "geyser", "lakeside", "valley", "volcano", "mountain tent", "sleeping bag",
        "megalith", "hay",
        # forest floor
        "coral fungus", "agaric", "gyromitra", "stinkhorn", "earthstar", "hen-of-the-woods",
        "bolete", "acorn", "buckeye",
    ),
    Theme.CITY_ARCHITECTURE: (
        "altar", "barbershop", "bell cote", "bookshop", "castle", "church", "cinema",
        "cliff dwelling", "dome", "fountain", "library", "monastery", "mosque", "obelisk",
        "palace", "patio", "planetarium", "prison", "shoe shop", "steel arch bridge",
        "suspension bridge", "viaduct", "stupa", "tile roof", "tobacco shop", "toyshop",
        "triumphal arch", "vault", "water tower", "totem pole", "street sign", "traffic light",
        "manhole cover", "pay-phone", "mailbox", "park bench", "turnstile", "bannister",
        "sliding door", "window screen", "stone wall", "thatch", "dam", "dock", 517,  # crane (construction)
        "pedestal", "brass", "parking meter", "cash machine",
    ),
    Theme.FOOD_DRINK: (
        range(923, 958),  # plate ... pomegranate: dishes, vegetables, fruit
        range(959, 970),  # carbonara ... eggnog: dishes and drinks
        "corn",
        "Dungeness crab", "king crab", "American lobster", "spiny lobster", "crayfish",
        "bakery", "butcher shop", "confectionery", "grocery store", "restaurant", "menu",
        "beer bottle", "beer glass", "wine bottle", "whiskey jug", "pop bottle", "goblet",
        "cocktail shaker", "coffee mug", "coffeepot", "espresso maker", "teapot", "pitcher",
        "soup bowl", "mixing bowl", "frying pan", "wok", "Dutch oven", "Crock Pot", "ladle",
        "spatula", "wooden spoon", "rotisserie", "waffle iron", "dining table", "tray",
    ),
    Theme.PETS: (
        range(151, 269),  # dogs
        range(281, 286),  # domestic cats
        "Angora", "hamster", "guinea pig", "muzzle",
    ),
    Theme.WILDLIFE: (
        0,  # tench: freshwater, usually held by an angler
        range(7, 25),  # birds
        range(25, 33),  # newts, salamanders, frogs
        range(35, 69),  # land turtles, lizards, crocodiles, snakes
        range(70, 80),  # spiders, scorpions, ticks, centipede
        range(80, 107),  # birds, tusker, echidna, platypus, wallaby, koala, wombat
        "snail", "slug",
        range(127, 147),  # wading birds, penguin, albatross
        range(269, 281),  # wolves, wild dogs, hyena, foxes
        range(286, 327),  # big cats, bears, mongoose, meerkat, insects, butterflies
        "wood rabbit", "hare", "porcupine", "fox squirrel", "marmot", "beaver",
        range(339, 389),  # horse, zebra, hoofed animals, mustelids, primates, elephants, pandas
    ),
    Theme.PEOPLE_PORTRAITS: (
        # worn or applied: ImageNet's photos of these show people. Make-up products
        # (face powder, hair spray) are left out: their photos are packshots.
        "suit", "bow tie", "Windsor tie", "wig", "lipstick", "hair slide", "necklace", "sunglass", "sunglasses", "cardigan", "sweatshirt", "jean",
        "miniskirt", "trench coat", "fur coat", "cowboy hat", "bonnet", "kimono", "abaya",
        "military uniform", "lab coat", "stole", "pajama", "cloak", "poncho", "hoopskirt",
        "overskirt", "vestment",
        # babies
        "bib", "diaper", "bassinet", "cradle", "crib", "nipple",
    ),
    Theme.PARTY_CELEBRATION: (
        "balloon", "groom", "gown", "academic gown", "mortarboard", "candle", "maypole",
        "carousel", "jack-o'-lantern", "Christmas stocking", "pinwheel", "feather boa", "mask",
        "stage", "theater curtain", "microphone", "electric guitar", "drum", "drumstick",
        "accordion", "sombrero", "bolo tie",
    ),
    Theme.SPORT: (
        "balance beam", "barbell", "baseball", "basketball", "croquet ball", "dumbbell",
        "football helmet", "golf ball", "golfcart", "horizontal bar", "parallel bars",
        "ping-pong ball", "puck", "punching bag", "racket", "rugby ball", "soccer ball",
        "tennis ball", "volleyball", "ballplayer", "scoreboard", "knee pad", "running shoe",
        "jersey", "go-kart", "racer", "mountain bike", "unicycle", "crash helmet", "parachute",
        "bathing cap",
    ),
    Theme.SNOW_WINTER: (
        "ski", "snowmobile", "snowplow", "dogsled", "bobsled", "mitten", "ski mask",
    ),
    Theme.VEHICLES_TRAVEL: (
        "airliner", "airship", "warplane", "wing", "space shuttle", "ambulance", "beach wagon",
        "cab", "convertible", "jeep", "limousine", "minivan", "Model T", "sports car", "pickup",
        "police van", "moving van", "trailer truck", "tow truck", "fire engine", "garbage truck",
        "school bus", "minibus", "trolleybus", "streetcar", "passenger car", "freight car",
        "electric locomotive", "steam locomotive", "bullet train", "recreational vehicle",
        "mobile home", "motor scooter", "moped", "bicycle-built-for-two", "tricycle", "tractor",
        "car wheel", "car mirror", "grille", "odometer", "gas pump", "jinrikisha", "horse cart",
        "oxcart", "gondola", "backpack",
    ),
    Theme.FLOWERS_GARDEN: (
        "daisy", "yellow lady's slipper", "rapeseed", "hip", "ear", "pot", "vase", "greenhouse",
        "lawn mower", "barrow", "rain barrel", "picket fence", "birdhouse", "worm fence",
    ),
}


@cache
def theme_class_indices() -> dict[Theme, np.ndarray]:
    """Each theme's ImageNet class indices (resolved once; reads the class list)."""
    out: dict[Theme, np.ndarray] = {}
    for theme in THEMES:
        idx: list[int] = []
        for ref in THEME_CLASSES[theme]:
            if isinstance(ref, range):
                idx.extend(ref)
            elif isinstance(ref, int):
                idx.append(ref)
            else:
                idx.append(class_index(ref))
        out[theme] = np.unique(np.asarray(idx, dtype=np.intp))
    return out


@cache
def _membership() -> np.ndarray:
    """[1000, n_themes] 0/1 matrix: probabilities @ membership = theme scores."""
    m = np.zeros((N_CLASSES, len(THEMES)), dtype=np.float32)
    for j, theme in enumerate(THEMES):
        m[theme_class_indices()[theme], j] = 1.0
    return m


# Calibrated on samples/themed (docs/themes.md): 34 labelled photos and 9 with no theme.
# T < 1 sharpens the softmax before summing. At T = 1 the mass the model spreads
# over unrelated classes favours the themes with most classes (wildlife has 229);
# top-1 and log-loss are best and flat over T = 0.5 .. 0.8.
TEMPERATURE = 0.7
# A theme is reported only at or above this score. At T = 0.7, 0.3 keeps the true
# theme of 88% of the labelled photos with 0.03 wrong themes per photo, and puts no
# theme on the 9 photos that have none (0.2: 91%, 0.09 and 3 of 9): albums want
# precision more than recall.
DEFAULT_MIN_SCORE = 0.3
# Per-theme overrides of DEFAULT_MIN_SCORE.
THEME_MIN_SCORES: dict[Theme, float] = {}
# Faces-only evidence for people: 1 face -> 0.5, 2 -> 0.75, 3 -> 0.875. Not calibrated yet:
# no face counts exist in this slice.
FACE_WEIGHT = 0.5


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def score_themes(
    logits: np.ndarray,
    *,
    temperature: float | None = None,
    faces: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """ImageNet logits [N, 1000] -> theme scores [N, len(THEMES)] in [0, 1], columns in THEMES order.

    ``faces``: optional face count per photo; people & portraits becomes at least
    ``1 - (1 - FACE_WEIGHT) ** faces``.
    """
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[1] != N_CLASSES:
        raise ValueError(f"logits must have shape [N, {N_CLASSES}], got {list(logits.shape)}")
    t = TEMPERATURE if temperature is None else temperature
    if t <= 0:
        raise ValueError(f"temperature must be positive, got {t}")
    scores = softmax(logits, t) @ _membership()
    if faces is not None:
        counts = np.asarray(faces)
        if counts.shape != (len(logits),):
            raise ValueError(f"faces must give one count per photo ({len(logits)}), got shape {list(counts.shape)}")
        if (counts < 0).any():
            raise ValueError("face counts cannot be negative")
        people = THEMES.index(Theme.PEOPLE_PORTRAITS)
        from_faces = 1.0 - (1.0 - FACE_WEIGHT) ** counts.astype(np.float32)
        scores[:, people] = np.maximum(scores[:, people], from_faces)
    return np.clip(scores, 0.0, 1.0)


@dataclass(frozen=True)
class ThemeScore:
    theme: Theme
    score: float


def top_themes(
    scores: np.ndarray,
    k: int = 3,
    min_score: float | Mapping[Theme, float] | None = None,
) -> list[list[ThemeScore]]:
    """Per photo, up to ``k`` themes with score >= their threshold, best first.

    ``min_score``: one threshold for all themes, a per-theme mapping (themes not in
    it use DEFAULT_MIN_SCORE), or None for the calibrated defaults.
    """
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[1] != len(THEMES):
        raise ValueError(f"scores must have shape [N, {len(THEMES)}] (from score_themes), got {list(scores.shape)}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if min_score is None:
        min_score = THEME_MIN_SCORES
    if isinstance(min_score, Mapping):
        thresholds = np.array([min_score.get(t, DEFAULT_MIN_SCORE) for t in THEMES], dtype=np.float32)
    else:
        thresholds = np.full(len(THEMES), min_score, dtype=np.float32)
    out: list[list[ThemeScore]] = []
    for row in scores:
        order = np.argsort(-row, kind="stable")[:k]
        out.append([ThemeScore(THEMES[j], float(row[j])) for j in order if row[j] >= thresholds[j]])
    return out
