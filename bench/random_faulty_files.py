"""Count, over 200 random faulty police.uk files, how often the loader's rows in differ from
the true record count or a row is lost or misnumbered (issue 14 measured 54 of 200).

The files come from the generator of tests/test_record_properties.py (stray quotes, quoted
line breaks, blank lines, CRLF, UTF-8/BOM/UTF-16/cp1252, ragged rows), seeded so every run
writes the same 200 files. Run: ``.venv/bin/python bench/random_faulty_files.py``.
"""
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_record_properties as T
from rtm.incidents import load_incidents
bad_count = bad_lines = errors = 0
rng = random.Random(14)
for k in range(200):
    specs = [{"kind": rng.choice(["good"] * 6 + ["linebreak", "stray", "extra", "short"]),
              "blank_after": rng.choice([0] * 5 + [1, 2]), "accent": rng.random() < 0.5} for _ in range(rng.randint(1, 25))]
    enc = rng.choice(["utf-8", "utf-8-sig", "utf-16", "cp1252"]); nl = rng.choice(["\n", "\r\n"])
    text, expected = T._write(specs, nl)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "2018-01-essex-street.csv"; p.write_bytes(text.encode(enc))
        try:
            inc = load_incidents(p, threads=1, today="2026-11-23")
        except Exception as e:
            errors += 1; continue
    if inc.report.rows_in != len(specs): bad_count += 1
    got = dict(zip(inc.rejects["row"].astype(int), inc.rejects["reason"])) if len(inc.rejects) else {}
    want = {l: r for l, r in expected.items() if r is not None}
    if set(got) != set(want) or inc.frame["source_row"].tolist() != [l for l, r in expected.items() if r is None]:
        bad_lines += 1
print(f"200 random faulty police.uk files: rows in != true record count in {bad_count}; wrong line numbers or lost rows in {bad_lines}; refused/traceback {errors}")
