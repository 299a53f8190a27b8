"""Fold work shared between leaderboard entries (issue 28): the level-2 pipeline's members are not refitted on a
fold whose rows the leaderboard already fitted them on, and the leaderboard is the same with and without sharing."""

import numpy as np

from blender import evaluation
from blender.methods import BY_NAME


def _binary(seed=0, n=600, n_models=5):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    logits = (2 * y - 1)[None, :] * rng.uniform(0.2, 1.5, (n_models, 1)) + rng.normal(size=(n_models, n))
    return y, (1.0 / (1.0 + np.exp(-logits)))[:, :, None]


def _board(values, y):
    methods = [BY_NAME[name] for name in ("stack-ridge", "stack-logreg", "level2-hill-climb")]
    return evaluation.leaderboard(
        values, y, kind="binary", metric="logloss", names=[f"m{i}" for i in range(len(values))], methods=methods
    )


def test_level2_members_are_taken_from_the_leaderboards_fits(monkeypatch):
    y, values = _binary()
    fits = []
    real_fit = evaluation.fit

    def counting_fit(entry, *args, **kwargs):
        fits.append(entry.name)
        return real_fit(entry, *args, **kwargs)

    monkeypatch.setattr(evaluation, "fit", counting_fit)
    hits = evaluation._FOLD_FITS.hits
    shared = _board(values, y)
    assert evaluation._FOLD_FITS.hits - hits == 2 * 5  # both stackers, each of the 5 folds
    hits = evaluation._FOLD_FITS.hits
    # The stackers are fitted 5 times for their own entries and 3 x 5 times inside level 2 (its inner folds).
    assert fits.count("stack-ridge") == 5 + 3 * 5
    monkeypatch.setattr(evaluation._FOLD_FITS, "SIZE", 0)  # nothing remembered: every fit made again
    alone = _board(values, y)
    assert evaluation._FOLD_FITS.hits == hits
    assert fits.count("stack-ridge") == 2 * (5 + 3 * 5) + 5  # the members' last fits made again
    for entry in shared.entries:
        np.testing.assert_array_equal(entry.fold_scores, alone.entry(entry.name).fold_scores)


def test_no_sharing_across_other_rows_or_values():
    y, values = _binary(1)
    rows = np.arange(400)
    key = evaluation._FoldKey(values, rows)
    assert key.same(evaluation._FoldKey(values, rows.copy()))
    assert not key.same(evaluation._FoldKey(values, rows[:-1]))
    assert not key.same(evaluation._FoldKey(values.copy(), rows))
    # Outside a leaderboard fold, shared_fit fits.
    fitted = evaluation.shared_fit(BY_NAME["stack-ridge"], values, y, kind="binary", metric="logloss")
    assert fitted.apply(values).shape == (600, 1)


def test_fits_with_features_are_not_remembered():
    y, values = _binary(2)
    before = list(evaluation._FOLD_FITS.fits)
    features = np.random.default_rng(0).normal(size=(600, 2))
    evaluation.leaderboard(
        values, y, kind="binary", metric="logloss", names=list("abcde"), methods=[BY_NAME["stack-ridge"]],
        features=features,
    )  # fmt: skip
    assert evaluation._FOLD_FITS.fits == before
