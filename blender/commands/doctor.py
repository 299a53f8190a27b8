"""``blend doctor``: what is wrong with these files before they are blended (:func:`blender.doctor.diagnose`),
one line per finding on stderr, most serious first."""

from __future__ import annotations

import time
from pathlib import Path

from blender import journal, results
from blender.errors import BlendInputError
from blender.session import Shared, check_outputs, metric_of, read_learning, say


def doctor(
    files: list[str] | None,
    *,
    folds: Path | None = None,
    folds_dir: Path | None = None,
    verbose: bool = False,
    plot: Path | None = None,
    options: Shared = Shared(),
) -> bool:
    """Diagnose the files, say the findings, draw them with ``plot``; whether a finding other than advice was found."""
    from blender import doctor, io, report

    metric, oof_dir, truth, positive = options.metric, options.oof_dir, options.truth, options.positive
    seed, id_column, task = options.seed, options.id_column, options.task

    check_outputs(plot=plot)
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="doctor", positive=positive)
    train, test = learning.train, learning.test
    shared_path = folds if folds is not None else truth.parent / "folds.csv"
    shared = None
    if folds is not None and not folds.is_file():
        raise BlendInputError(f"--folds {folds}: no such file; give the shared folds file (id,fold).")
    if shared_path.is_file():
        shared = io.read_folds(shared_path, train.ids, id_column=id_column)
    own_dir = folds_dir if folds_dir is not None else Path(test.paths[0]).parent / "folds"
    if folds_dir is not None and not folds_dir.is_dir():
        raise BlendInputError(f"--folds-dir {folds_dir}: no such folder; give the folder of NAME.csv folds files.")
    file_folds = {}
    for name in test.names:
        own = own_dir / f"{name}.csv"
        if own.is_file():
            file_folds[str(own)] = io.read_folds(own, train.ids, id_column=id_column)
    if file_folds:
        say(f"per-file folds: {', '.join(file_folds)}")
    started = time.perf_counter()
    diagnosis = doctor.diagnose(
        train.values,
        test.values,
        learning.y,
        names=[str(path) for path in test.paths],
        kind=test.kind,
        metric=metric_of(learning),
        folds=shared,
        file_folds=file_folds,
        shared_folds_name=str(shared_path),
        random_state=seed,
    )
    seconds = time.perf_counter() - started
    if verbose:
        header = ["file", *diagnosis.table]
        rows = [[name, *(float(column[k]) for column in diagnosis.table.values())] for k, name in enumerate(test.names)]
        report.show_table(header, rows, stream=results.table_stream())
    for finding in diagnosis.findings:
        say(finding.message)
    for check, why in diagnosis.skipped.items():
        say(f"skipped {check}: {why}")
    faults = [finding for finding in diagnosis.findings if not finding.advice]
    named = {name for finding in diagnosis.findings for name in finding.files}
    results.emit(
        metric=str(learning.metric),
        inputs=list(test.names),
        findings=[
            {
                "check": finding.check,
                "files": list(finding.files),
                "severity": finding.severity,
                "advice": finding.advice,
                "message": finding.message,
            }
            for finding in diagnosis.findings
        ],
        skipped=dict(diagnosis.skipped),
        to_fix=len(faults),
    )
    say(
        f"doctor: {len(diagnosis.findings)} finding{'s' if len(diagnosis.findings) != 1 else ''} "
        f"({len(faults)} to fix, {len(diagnosis.findings) - len(faults)} advice) naming {len(named)} of "
        f"{test.n_models} files, checked in {seconds:.1f} s"
    )
    if plot is not None:
        journal.note(method="doctor", members=test.names, metric=learning.metric)
        with io.OutputGroup(log=journal.log_entry(plot)) as outputs:
            outputs.figure(plot, report.doctor_chart(diagnosis, test.names))
        say(f"wrote {plot}")
        results.add_output(plot)
    return bool(faults)
