"""rtm.records.split_records: where records start, by pyarrow's and Python csv's quoting rules."""

from __future__ import annotations

import csv
import io

import pytest

from rtm.records import split_records


@pytest.mark.parametrize("text, lines, stray", [
    # a quote in the middle of a cell is an ordinary character
    (b'a,b,c\n1,Main "St,3\n4,5,6\n', [2, 3], []),
    # an unclosed quote at the start of a cell costs its own line only
    (b'a,b,c\n1,"Main St,3\n4,5,6\n7,8,9\n', [3, 4], [2]),
    # a quoted line break is one record; a blank line after it is not a record
    (b'a,b,c\n1,"x\ny",3\n\n4,5,6\n', [2, 5], []),
    # "" inside quotes is a literal quote, across lines too
    (b'a,b,c\n1,"say ""hi\n"" now",3\n4,5,6\n', [2, 4], []),
    # two stray quotes never pair up into one record swallowing the line between
    (b'a,b,c\n1,"x,2\n4,5,6\n7,"8,9\n', [3], [2, 4]),
    # CRLF, a blank CRLF line and a line of spaces
    (b'a,b,c\r\n1,2,3\r\n\r\n   \r\n4,5,6\r\n', [2, 5], []),
])
def test_records_and_stray_quotes(text, lines, stray):
    recs = split_records(text, ",", 3)
    assert recs.lines.tolist() == lines
    assert [s[0] for s in recs.stray] == stray
    # what is left parses, by Python's csv module, into exactly the records found
    rows = [r for r in csv.reader(io.StringIO(recs.text.decode())) if r][1:]
    assert len(rows) == len(lines) and all(len(r) == 3 for r in rows)


def test_clean_text_is_passed_on_without_a_copy():
    text = b"a,b\n1,2\n3,4\n"
    assert split_records(text, ",", 2).text is text


def test_title_line_before_the_header_is_left_out():
    recs = split_records(b"My title\na,b\n1,2\n", ",", 2, header_line=2)
    assert recs.lines.tolist() == [3] and recs.text == b"a,b\n1,2\n"
