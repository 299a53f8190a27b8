"""A longer fuzz run of the readers and the command line: ``make fuzz`` (``python benchmarks/fuzz.py``).

The same generators as ``tests/test_fuzz.py`` (``tests/fuzzing.py``), for as long as asked:
each case generates a prediction set (or a whole competition), mutates one file, the weights or
an output path, and reads it through ``blender.io.read_predictions`` or runs one ``blend``
command. The contract allows two outcomes only: accepted with a sane result, or refused with a
``BlendInputError`` (one ``Error:`` line, exit status 1, existing outputs untouched).

Prints the counts of outcomes by expectation and by mutation, then every kind of failure once,
shrunk to a minimal reproduction (files and call). Exits 1 when anything failed.

    python benchmarks/fuzz.py --seed 7 --duration 300
    python benchmarks/fuzz.py --only read --cases 5000
"""

from __future__ import annotations

import argparse
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's blender, and the shared generators

import fuzzing  # noqa: E402


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seed", type=int, default=0, help="Seed of the case sequence (case i is the same for the same seed)."
    )
    parser.add_argument("--duration", type=float, default=300.0, help="Seconds to run (default 300).")
    parser.add_argument("--cases", type=int, default=None, help="Stop after this many cases instead (or first).")
    parser.add_argument("--only", choices=["read", "cli"], default=None, help="Only reads, or only command-line runs.")
    parser.add_argument("--cli-share", type=float, default=0.2, help="Share of the cases run through the CLI (slower).")
    parser.add_argument("--no-shrink", action="store_true", help="Report failures as generated, unshrunk.")
    parser.add_argument("--examples", type=int, default=1, help="Reproductions printed per kind of failure.")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    options = parse_arguments(argv)
    started = time.perf_counter()
    counts = collections.Counter()
    by_mutation = collections.Counter()
    failures: dict[tuple, list] = collections.defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="blend-fuzz-") as scratch:
        scratch = Path(scratch)
        parquet = fuzzing.parquet_supported(scratch / "probe")
        print(
            f"seed {options.seed}; Parquet {'read' if parquet else 'not read on this code: not generated'}", flush=True
        )
        index = 0
        while True:
            if options.cases is not None and index >= options.cases:
                break
            if time.perf_counter() - started >= options.duration:
                break
            layer = options.only or ("cli" if (index * options.cli_share) % 1 + options.cli_share >= 1 else "read")
            folder = scratch / f"case{index}"
            if layer == "cli":
                case = fuzzing.cli_case(options.seed, index, folder)
            else:
                case = fuzzing.read_case(options.seed, index, folder, parquet=parquet)
            shutil.rmtree(folder, ignore_errors=True)
            counts[(layer, case.mutation.expect, case.outcome)] += 1
            by_mutation[(layer, case.mutation.name, case.outcome)] += 1
            if case.problems:
                failures[(layer, *case.signature)].append(case)
            index += 1
            if index % 500 == 0:
                print(
                    f"  {index:,} cases, {sum(len(v) for v in failures.values()):,} failing "
                    f"({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
        elapsed = time.perf_counter() - started
        print(f"\n{index:,} cases in {elapsed:.0f} s ({index / max(elapsed, 1e-9):.1f} per second)\n")
        print("outcomes by expectation (layer, expected, outcome: count):")
        for key, count in sorted(counts.items()):
            print(f"  {key[0]:4}  {key[1]:7} {key[2]:9} {count:6,}")
        print("\noutcomes by mutation:")
        for key, count in sorted(by_mutation.items()):
            print(f"  {key[0]:4}  {key[1]:22} {key[2]:9} {count:6,}")
        n_failing = sum(len(v) for v in failures.values())
        print(f"\n{n_failing:,} failing cases in {len(failures)} kinds")
        for signature, cases in sorted(failures.items(), key=lambda item: -len(item[1])):
            layer, mutation, expect, outcome, problems, _message = signature
            print(f"\n=== [{len(cases)} x] {layer}: {mutation} (expected {expect}, {outcome}): {'; '.join(problems)}")
            for case in cases[: options.examples]:
                small = case if options.no_shrink else fuzzing.shrink(case, scratch / "shrink")
                print(fuzzing.describe(small))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
