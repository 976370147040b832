"""workbench.io and the readers on top of it: encodings and JSON errors name file, line, column."""

import codecs

import pytest

from workbench.data import DataError, read_jsonl, read_yaml_mapping


@pytest.mark.unit
def test_invalid_utf8_names_file_line_and_column(tmp_path):
    p = tmp_path / "task.jsonl"
    p.write_bytes(b'{"id": "1", "input": "ok"}\n{"id": "2", "input": "caf\xe9"}\n')
    with pytest.raises(
        DataError, match=r"task\.jsonl:2: not valid UTF-8 \(byte 0xe9 at column 26\)"
    ):
        read_jsonl(p)


@pytest.mark.unit
def test_a_utf8_file_with_a_byte_order_mark_loads(tmp_path):
    p = tmp_path / "task.jsonl"
    p.write_bytes(codecs.BOM_UTF8 + b'{"id": "1", "input": "a"}\n')
    assert read_jsonl(p, required=("id",)) == [{"id": "1", "input": "a"}]
    y = tmp_path / "spec.yaml"
    y.write_bytes(codecs.BOM_UTF8 + b"name: x\n")
    assert read_yaml_mapping(y) == {"name": "x"}


@pytest.mark.unit
def test_invalid_json_points_at_the_right_column_with_an_excerpt(tmp_path):
    p = tmp_path / "task.jsonl"
    line = '{"id": "2", "input": "héllo" "reference": "b"}'
    p.write_text('{"id": "1", "input": "a"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_jsonl(p)
    message = str(err.value)
    column = line.index('"reference"') + 1  # characters, as an editor counts them
    assert f"task.jsonl:3: not valid JSON (Expecting ',' delimiter at column {column})" in message
    excerpt, caret = message.splitlines()[-2:]
    assert excerpt.strip() == line and caret.index("^") - 4 == column - 1


@pytest.mark.unit
def test_a_line_separator_inside_a_string_does_not_shift_line_numbers(tmp_path):
    p = tmp_path / "task.jsonl"
    p.write_text('{"id": "1", "input": "a\u2028b"}\n{"id": "2" "input": "x"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"task\.jsonl:2: not valid JSON"):
        read_jsonl(p)
