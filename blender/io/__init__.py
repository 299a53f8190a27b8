"""Reading, aligning, validating and writing prediction files: the only package that touches files.

Files are CSV (``.csv``, ``.csv.gz``, read with pyarrow's CSV reader) or Parquet (``.parquet``),
chosen by the file name. Large prediction files are read one at a time, and every CSV file
after the first is streamed block by block straight into its rows of ``values``, so that a
command's peak memory stays near the bytes of ``values``; many small files are read a few at a
time in threads. Ids are read as text, so ``007`` stays ``007``; rows
are matched by id and class columns by name, never by position. Every check of the contract's
"Bad input" list lives here and raises :class:`BlendInputError` with one line that names the
file, the id or column, and the fix; Parquet files get the same checks and the same messages
as CSV files. Outputs are written to a temporary file beside the target and renamed, so a
failed run never leaves a half-written file; :class:`OutputGroup` renames several outputs of
one command only when all of them were written.

Every prediction set is one float64 array ``values`` of shape ``(n_models, n_rows, n_cols)``
(see :mod:`blender.layout`): one column for binary probabilities and regression, one per
class (in the first file's column order) for class probabilities, and one-hot votes over the
sorted class labels for labels.

The package, one job a module (each imports only those above it):

- :mod:`~blender.io.predictions`: the data classes (``Predictions``, ``LearningSet``, one file's ``Table``);
- :mod:`~blender.io.paths`: FILES to paths, paths to model names;
- :mod:`~blender.io.checks`: id, column and cell checks, and the wording of every message;
- :mod:`~blender.io.tables`: one file read (header, CSV or Parquet, file-level errors);
- :mod:`~blender.io.ids`: rows matched by id;
- :mod:`~blender.io.streaming`: large files streamed block by block into ``values``;
- :mod:`~blender.io.reading`: ``read_predictions``, read-ahead, ``read_history``;
- :mod:`~blender.io.learning`: OOF pairing, truth, features, the sample submission;
- :mod:`~blender.io.logfile`: the submission log's file, the inputs a command read, content hashes;
- :mod:`~blender.io.writing`: atomic writes and ``OutputGroup``.
"""

from blender.io.checks import LARGEST_VALUE, check_column_count
from blender.io.learning import (
    Sample,
    fold_plan,
    read_features,
    read_folds,
    read_learning,
    read_sample,
    read_target,
    read_truth,
)
from blender.io.logfile import LogEntry, append_record, note_input, read_log, recording_inputs, sha256_file
from blender.io.paths import model_name, resolve_paths
from blender.io.predictions import DEFAULT_GLOB, KINDS, SUFFIXES, Kind, LearningSet, Predictions
from blender.io.reading import read_history, read_predictions
from blender.io.writing import OutputGroup, atomic_write, check_output_path, csv_text, write_predictions, write_table

__all__ = [
    "DEFAULT_GLOB",
    "KINDS",
    "Kind",
    "LARGEST_VALUE",
    "LearningSet",
    "LogEntry",
    "OutputGroup",
    "Predictions",
    "SUFFIXES",
    "Sample",
    "append_record",
    "atomic_write",
    "check_column_count",
    "check_output_path",
    "csv_text",
    "fold_plan",
    "model_name",
    "note_input",
    "read_features",
    "read_folds",
    "read_history",
    "read_log",
    "read_learning",
    "read_predictions",
    "read_sample",
    "read_target",
    "read_truth",
    "recording_inputs",
    "resolve_paths",
    "sha256_file",
    "write_predictions",
    "write_table",
]
