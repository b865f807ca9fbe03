"""Clean transcripts of the encoding artefacts real releases carry.

MELD's CSVs, depending on the copy, hold UTF-8 read as Windows-1252 (mojibake: `â€™` for `’`,
`Ã©` for `é`) or raw Windows-1252 bytes that are not UTF-8 (a stray `\\x92` for `’`).
`clean_text` turns both back into the intended characters and collapses whitespace. Text that
is already clean comes back unchanged (apart from whitespace).
"""

from __future__ import annotations

import re

# characters Windows-1252 maps bytes 0x80-0xFF to; a run of two or more of them may be mojibake
_CP1252_CHARS = "".join(
    sorted({bytes([b]).decode("cp1252", "replace") for b in range(0x80, 0x100)})
)
_SUSPECT_RUN = re.compile("[" + re.escape(_CP1252_CHARS.replace("\ufffd", "")) + "\x80-\x9f]{2,}")
_UTF8_LENGTH = [(0xC2, 0xE0, 2), (0xE0, 0xF0, 3), (0xF0, 0xF5, 4)]  # lead byte range → length


def _cp1252_byte(char: str) -> int:
    """The byte Windows-1252 (or Latin-1, for its five holes) writes `char` as."""
    try:
        return char.encode("cp1252")[0]
    except UnicodeEncodeError:
        return ord(char)  # 0x81, 0x8d, 0x8f, 0x90, 0x9d decode to themselves in Latin-1


def _undo_mojibake(run: str) -> str:
    """Re-read `run` as the UTF-8 bytes it was mis-decoded from, sequence by sequence; any
    part that is not a valid multi-byte UTF-8 sequence is kept as it was."""
    raw = bytes(_cp1252_byte(char) for char in run)
    out, index = [], 0
    while index < len(raw):
        length = next((n for lo, hi, n in _UTF8_LENGTH if lo <= raw[index] < hi), 0)
        piece = raw[index : index + length]
        try:
            if length and len(piece) == length:
                out.append(piece.decode("utf-8"))
                index += length
                continue
        except UnicodeDecodeError:
            pass
        out.append(run[index])
        index += 1
    return "".join(out)


def _stray_byte(match: re.Match[str]) -> str:
    """A C1 control character or an undecodable byte (surrogate escape) read as Windows-1252."""
    code = ord(match.group())
    byte = code - 0xDC00 if code >= 0xDC00 else code
    return bytes([byte]).decode("cp1252", errors="replace").replace("\ufffd", "")


def clean_text(text: str) -> str:
    """Undo mojibake and stray Windows-1252 bytes, turn no-break spaces into spaces, collapse
    runs of whitespace and strip."""
    text = _SUSPECT_RUN.sub(lambda match: _undo_mojibake(match.group()), text)
    text = re.sub("[\x80-\x9f\udc80-\udcff]", _stray_byte, text)
    return " ".join(text.replace("\xa0", " ").split())
