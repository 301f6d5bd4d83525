"""Recommended below-threshold amount.

The below-threshold rule clears every deduction smaller than its threshold.
The recommendation aims at clearing about 4 % of the deduction dollars of
the last three months: among whole currency amounts ``T``, the one whose
cleared share (the deductions with ``|amount| < T`` over all of them) is
closest to 4 %; on a tie, the smaller. A threshold below the smallest
deduction says nothing more than one at it, so none is taken below the
smallest deduction's whole amount.

The cleared share only moves in steps, one per distinct whole amount of the
deductions, and can miss 4 % by far when the amounts cluster. When the best
share is outside 2 %–6 %, the recommendation says so and gives the two
thresholds on either side of 4 % with the share each clears.

>>> from datetime import date
>>> def rec(amounts):
...     return recommend_threshold([(date(2024, 3, 1), a) for a in amounts],
...                                today=date(2024, 4, 2), oldest=date(2023, 12, 1))
>>> r = rec([10.0, 20.0, 30.0, 40.0, 900.0])    # 21 clears 3 %, 31 would clear 6 %
>>> r.threshold, round(r.share, 4), r.off_target
(21, 0.03, False)
>>> r = rec([5.0] * 100)                        # 5 clears nothing, 6 clears it all
>>> r.threshold, r.share, r.off_target
(5, 0.0, True)
>>> r.below, r.above
(ThresholdOption(threshold=5, share=0.0), ThresholdOption(threshold=6, share=1.0))
"""
import bisect
import math
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

#: share of the deduction dollars the threshold should clear
SHARE = 0.04
#: a recommendation clearing a share outside these bounds is flagged, with
#: the thresholds on either side of :data:`SHARE`
SHARE_LOW = 0.02
SHARE_HIGH = 0.06
#: months of history looked at
MONTHS = 3
#: recommendation when there is not enough history
DEFAULT_THRESHOLD = 100
#: fewer deductions than this in the window: the figure is fragile
FEW_DEDUCTIONS = 30
#: one deduction holding more than this share of the dollars drives the figure
OUTLIER_SHARE = 0.25
#: lower edges (company currency, absolute amounts) of the amount buckets the
#: deductions are shown in; the first bucket starts at 0, the last has no top
BUCKET_EDGES = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
#: shares closer than this are equal (sums of floats)
_EPSILON = 1e-9


@dataclass(frozen=True)
class ThresholdOption:
    """A whole ``threshold`` and the ``share`` (0 to 1) of the deduction
    dollars it clears."""

    threshold: int
    share: float


@dataclass
class Recommendation:
    """``threshold`` is a whole amount in the company currency; ``basis``
    says how it was found: ``short_history`` (no deduction three months
    old yet), ``no_recent`` (none in the window) or ``share`` (the share
    closest to 4 %, which ``share`` holds). ``few``, ``outlier`` (the
    largest amount, when it holds more than a quarter of the dollars) and
    ``off_target`` (the share is outside 2 %–6 %; ``below`` and ``above``
    are then the thresholds on either side of 4 %) say when not to trust
    it blindly."""

    threshold: int
    basis: str
    since: date
    count: int = 0
    total: float = 0.0
    share: float | None = None
    few: bool = False
    outlier: float | None = None
    off_target: bool = False
    below: ThresholdOption | None = None
    above: ThresholdOption | None = None

    @property
    def warnings(self):
        flags = (("few", self.few), ("outlier", self.outlier), ("off_target", self.off_target))
        return [name for name, flag in flags if flag]


def window_start(today):
    """First day of the history the recommendation reads."""
    return today - relativedelta(months=MONTHS)


def threshold_options(amounts):
    """The shares whole thresholds can clear of ``amounts``.

    :param amounts: the sizes (``|amount|``, all above zero) of the
        deductions, sorted ascending
    :return: list of :class:`ThresholdOption`, one per share a whole
        threshold can clear, each with the smallest threshold that clears
        it (never below the smallest amount's whole part, nor below 1),
        smallest first

    >>> threshold_options([10.0, 20.0, 30.0, 40.0, 900.0])  # doctest: +NORMALIZE_WHITESPACE
    [ThresholdOption(threshold=10, share=0.0), ThresholdOption(threshold=11, share=0.01),
     ThresholdOption(threshold=21, share=0.03), ThresholdOption(threshold=31, share=0.06),
     ThresholdOption(threshold=41, share=0.1), ThresholdOption(threshold=901, share=1.0)]
    >>> threshold_options([0.25, 0.5, 3.0])
    [ThresholdOption(threshold=1, share=0.2), ThresholdOption(threshold=4, share=1.0)]
    """
    total = math.fsum(amounts)
    threshold = max(1, math.floor(amounts[0]))
    index = bisect.bisect_left(amounts, threshold)
    options = [ThresholdOption(threshold, math.fsum(amounts[:index]) / total)]
    cleared = list(amounts[:index])
    while index < len(amounts):
        threshold = math.floor(amounts[index]) + 1
        end = bisect.bisect_left(amounts, threshold, lo=index)
        cleared.extend(amounts[index:end])
        index = end
        share = 1.0 if index == len(amounts) else math.fsum(cleared) / total
        options.append(ThresholdOption(threshold, share))
    return options


def recommend_threshold(samples, today, oldest=None):
    """Recommend a threshold from deductions.

    :param samples: iterable of ``(transaction_date, amount)`` of the
        non-void deductions (repayments are negative, their size counts)
    :param date today: the day of the recommendation
    :param oldest: transaction date of the oldest non-void deduction of the
        company (any age), or ``None`` when there is none; when it is younger
        than three months the data is too short and 100 is recommended
    :return: :class:`Recommendation`
    """
    start = window_start(today)
    if oldest is None or oldest > start:
        return Recommendation(threshold=DEFAULT_THRESHOLD, basis="short_history", since=start)
    amounts = sorted(abs(amount) for day, amount in samples if start <= day <= today and amount)
    if not amounts:
        return Recommendation(threshold=DEFAULT_THRESHOLD, basis="no_recent", since=start)
    total = math.fsum(amounts)
    options = threshold_options(amounts)
    # closest to the share; equally close (within float noise): the smaller threshold
    best = min(options, key=lambda o: (round(abs(o.share - SHARE) / _EPSILON), o.threshold))
    off_target = not (SHARE_LOW - _EPSILON <= best.share <= SHARE_HIGH + _EPSILON)
    below = above = None
    if off_target:
        below = next((o for o in reversed(options) if o.share < SHARE), None)
        above = next((o for o in options if o.share >= SHARE), None)
    return Recommendation(
        threshold=best.threshold,
        basis="share",
        since=start,
        count=len(amounts),
        total=total,
        share=best.share,
        few=len(amounts) < FEW_DEDUCTIONS,
        outlier=amounts[-1] if amounts[-1] > OUTLIER_SHARE * total else None,
        off_target=off_target,
        below=below,
        above=above,
    )


def month_key(day):
    """``(year, month)`` of a date, the period of a below-threshold promotion."""
    return (day.year, day.month)


# ----------------------------------------------------------------------
# Amount buckets
# ----------------------------------------------------------------------
@dataclass
class Bucket:
    """Deductions whose size (``|amount|``, company currency) is at least
    ``lower`` and below ``upper`` (``None``: no upper bound): ``count`` of
    them, holding ``total`` of the dollars."""

    key: str
    lower: float
    upper: float | None
    count: int = 0
    total: float = 0.0

    def contains(self, size):
        return self.lower <= size and (self.upper is None or size < self.upper)


def _edge_label(edge):
    return f"{edge:,}"


def bucket_selection(edges=BUCKET_EDGES):
    """``[(key, label)]`` of the buckets, smallest first: the selection of
    the stored bucket of a deduction. A key is the bucket's rank and lower
    edge, so that keys sort in amount order (read_group orders by key).

    >>> bucket_selection((10, 100))
    [('00_0', 'Under 10'), ('01_10', '10 to 100'), ('02_100', '100 and more')]
    """
    bounds = (0, *edges)
    selection = []
    for rank, (lower, upper) in enumerate(zip(bounds, (*edges, None), strict=False)):
        key = f"{rank:02d}_{lower}"
        if upper is None:
            selection.append((key, f"{_edge_label(lower)} and more"))
        elif not lower:
            selection.append((key, f"Under {_edge_label(upper)}"))
        else:
            selection.append((key, f"{_edge_label(lower)} to {_edge_label(upper)}"))
    return selection


def bucket_key(amount, edges=BUCKET_EDGES):
    """Key of the bucket of ``amount`` (its size counts: a repayment of -30
    is in the bucket of 30). An amount on an edge belongs to the bucket the
    edge starts, as the rule clears amounts *strictly* below its threshold.

    >>> bucket_key(9.99), bucket_key(-10), bucket_key(100000)
    ('00_0', '01_10', '09_5000')
    """
    return bucket_selection(edges)[bisect.bisect_right(edges, abs(amount))][0]


def bucket_amounts(samples, today, edges=BUCKET_EDGES):
    """Count and sum the deductions of the recommendation's window (the last
    three months up to ``today``) per amount bucket.

    :param samples: iterable of ``(transaction_date, amount)`` of the
        non-void deductions, amounts in the company currency, as given to
        :func:`recommend_threshold`
    :param date today: the last day of the window
    :return: list of :class:`Bucket`, one per bucket, smallest first,
        empty buckets included

    >>> buckets = bucket_amounts([(date(2024, 3, 1), 12.0), (date(2024, 3, 2), -20.0)],
    ...                          today=date(2024, 4, 2), edges=(10, 100))
    >>> [(b.key, b.count, b.total) for b in buckets]
    [('00_0', 0, 0.0), ('01_10', 2, 32.0), ('02_100', 0, 0.0)]
    """
    bounds = (0, *edges)
    buckets = [
        Bucket(key=key, lower=lower, upper=upper)
        for (key, _label), lower, upper in zip(bucket_selection(edges), bounds, (*edges, None), strict=False)
    ]
    start = window_start(today)
    sizes = [[] for _bucket in buckets]
    for day, amount in samples:
        if amount and start <= day <= today:
            size = abs(amount)
            sizes[bisect.bisect_right(edges, size)].append(size)
    for bucket, bucket_sizes in zip(buckets, sizes, strict=False):
        bucket.count = len(bucket_sizes)
        bucket.total = math.fsum(bucket_sizes)
    return buckets


def bucket_of(buckets, threshold):
    """The bucket of ``buckets`` holding ``threshold`` (the one a marker for
    it is drawn in), or ``None`` for a threshold of zero or less."""
    if not threshold or threshold <= 0:
        return None
    return next((bucket for bucket in buckets if bucket.contains(threshold)), None)


#: size of the amount chart (SVG user units) and of its plot area
CHART_WIDTH = 640
CHART_HEIGHT = 300
PLOT_TOP = 44
PLOT_BOTTOM = 220
PLOT_LEFT = 14
PLOT_RIGHT = 626


def _marker_x(bar, bucket, threshold):
    """Where ``threshold`` falls in ``bar``: in proportion to the bucket's
    range, at the bar's left edge in the open-ended last bucket."""
    if bucket.upper is None:
        return bar["x"]
    share = (threshold - bucket.lower) / (bucket.upper - bucket.lower)
    return round(bar["x"] + share * bar["width"], 1)


def chart_layout(buckets, recommended, current):
    """Geometry of the bar chart of ``buckets`` (one bar per bucket, its
    height the bucket's dollars), with the bucket holding the recommended
    threshold and the one holding the current threshold marked.

    :param buckets: list of :class:`Bucket`, from :func:`bucket_amounts`
    :param recommended: the recommended threshold
    :param current: the rule's threshold (``0`` or ``None`` when not set)
    :return: dict with ``ticks`` (``x``, ``label``: the lower edge of each
        bucket, on the axis), ``bars`` (``key``, ``count``,
        ``total``, ``x``, ``y``, ``width``, ``height``, ``marks``: a subset
        of ``{"recommended", "current"}``, ``cleared``: the whole bucket is
        below the current threshold), ``markers`` (``kind``, ``threshold``,
        ``x``) and ``empty`` (no deduction in any bucket)

    >>> layout = chart_layout(bucket_amounts([(date(2024, 3, 1), 30.0)], date(2024, 4, 2)),
    ...                       recommended=31, current=100)
    >>> [(bar["key"], sorted(bar["marks"])) for bar in layout["bars"] if bar["marks"]]
    [('02_25', ['recommended']), ('04_100', ['current'])]
    """
    slot = (PLOT_RIGHT - PLOT_LEFT) / len(buckets)
    width = round(slot - 2, 1)
    top = max((bucket.total for bucket in buckets), default=0.0)
    marked = {"recommended": bucket_of(buckets, recommended), "current": bucket_of(buckets, current)}
    bars = []
    markers = []
    for index, bucket in enumerate(buckets):
        height = round((PLOT_BOTTOM - PLOT_TOP) * bucket.total / top, 1) if top else 0.0
        bar = {
            "key": bucket.key,
            "count": bucket.count,
            "total": bucket.total,
            "x": round(PLOT_LEFT + index * slot + 1, 1),
            "center": round(PLOT_LEFT + (index + 0.5) * slot, 1),
            "width": width,
            "height": height,
            "y": round(PLOT_BOTTOM - height, 1),
            "marks": {kind for kind, marked_bucket in marked.items() if marked_bucket is bucket},
            "cleared": bool(current) and bucket.upper is not None and bucket.upper <= current,
        }
        bars.append(bar)
        for kind in sorted(bar["marks"], reverse=True):
            threshold = recommended if kind == "recommended" else current
            x = _marker_x(bar, bucket, threshold)
            anchor = "start" if x < 80 else "end" if x > CHART_WIDTH - 80 else "middle"
            markers.append({"kind": kind, "threshold": threshold, "x": x, "anchor": anchor})
    ticks = [{"x": round(PLOT_LEFT + index * slot, 1), "label": _edge_label(bucket.lower)}
             for index, bucket in enumerate(buckets)]
    return {
        "bars": bars,
        "ticks": ticks,
        "markers": markers,
        "empty": not any(bucket.count for bucket in buckets),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "plot_top": PLOT_TOP,
        "plot_bottom": PLOT_BOTTOM,
        "plot_left": PLOT_LEFT,
        "plot_right": PLOT_RIGHT,
    }
