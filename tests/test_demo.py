"""The main job's claim lines: judged by log loss, lower is better."""

from models.demo import claim_line


def test_claim_line_holds_only_when_the_blend_beats_every_rival():
    table = {"blend": (0.020,), "a": (0.025,), "b": (0.030,)}
    line = claim_line("OOF: the average", "blend", ["a", "b"], table)
    assert line == "  [yes] OOF: the average (0.0200) beats each (a 0.0250, b 0.0300)"
    table["a"] = (0.019,)
    assert claim_line("OOF: the average", "blend", ["a", "b"], table).startswith("  [no ] ")


def test_claim_line_against_one_model_names_it_the_best_single_model():
    line = claim_line("test: weights", "blend", ["a"], {"blend": (0.02,), "a": (0.02,)})
    assert line == "  [no ] test: weights (0.0200) beats the best single model (a 0.0200)"
