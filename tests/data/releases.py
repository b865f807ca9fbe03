"""IEMOCAP- and MELD-shaped release trees, generated at test time with tiny media files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.data.clips import face_image, side_by_side, tone, write_audio, write_video

# one dialog per session: (speaker+number, IEMOCAP code, start, end, transcript)
IEMOCAP_TURNS = [
    ("F000", "neu", 0.2, 0.6, "Excuse me."),
    ("M000", "hap", 0.7, 1.1, "Do you have your forms?"),
    ("F001", "exc", 1.2, 1.6, "Yeah."),
    ("M001", "fru", 1.7, 2.1, "Let me see them."),
    ("F002", "xxx", 2.2, 2.6, "Is there a problem?"),
    ("M002", "sad", 2.7, 3.1, "Who told you to get in this line?"),
    ("F003", "ang", 3.2, 3.6, "You did."),
]
IEMOCAP_DIALOGS = {
    1: "Ses01F_impro01",
    2: "Ses02M_impro01",
    3: "Ses03F_script01_1",
    4: "Ses04F_impro02",
    5: "Ses05F_impro01",
}
IEMOCAP_VIDEO_SESSIONS = (2, 5)  # the others have no dialog video
FEMALE_SKIN, MALE_SKIN = (225, 190, 170), (150, 110, 80)  # tell the two halves apart


def make_iemocap(root: Path) -> Path:
    """`root/IEMOCAP_full_release` with 5 sessions × 7 turns, and these defects: Session1 lacks
    the wav of M002 and the transcript of F003, Session3 has an unreadable evaluation line,
    and an AppleDouble `._` file sits among the evaluations."""
    release = root / "IEMOCAP_full_release"
    for session, dialog in IEMOCAP_DIALOGS.items():
        base = release / f"Session{session}"
        evaluation = [
            "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]",
            "",
        ]
        transcript = []
        for turn, code, start, end, text in IEMOCAP_TURNS:
            utterance = f"{dialog}_{turn}"
            evaluation += [
                f"[{start:.4f} - {end:.4f}]\t{utterance}\t{code}\t[2.5000, 3.0000, 3.5000]",
                "C-E2:\tNeutral;\t()",
                "",
            ]
            if not (session == 1 and turn == "F003"):
                transcript.append(f"{utterance} [{start:08.4f}-{end:08.4f}]: {text}")
            wav = base / "sentences" / "wav" / dialog / f"{utterance}.wav"
            wav.parent.mkdir(parents=True, exist_ok=True)
            if not (session == 1 and turn == "M002"):
                write_audio(wav, tone(end - start, 16_000, freq=200 + 50 * session), 16_000)
        if session == 3:
            evaluation.append("[oops - 1.0]\tSes03F_script01_1_F009\tneu\t[1, 2, 3]")
        eval_dir = base / "dialog" / "EmoEvaluation"
        eval_dir.mkdir(parents=True)
        (eval_dir / f"{dialog}.txt").write_text("\n".join(evaluation) + "\n")
        (eval_dir / f"._{dialog}.txt").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
        (eval_dir / "Categorical").mkdir()
        text_dir = base / "dialog" / "transcriptions"
        text_dir.mkdir(parents=True)
        transcript.append(f"{dialog}_MXX0 [010.0000-011.0000]: unlabelled turn")
        (text_dir / f"{dialog}.txt").write_text("\n".join(transcript) + "\n")
        if session in IEMOCAP_VIDEO_SESSIONS:
            marker_skin = FEMALE_SKIN if dialog[5] == "F" else MALE_SKIN
            other_skin = MALE_SKIN if dialog[5] == "F" else FEMALE_SKIN
            frame = side_by_side(  # marker-wearing actor on the left
                face_image(240, 240, scale=0.8, skin=marker_skin),
                face_image(240, 240, scale=0.8, skin=other_skin),
            )
            avi = base / "dialog" / "avi" / "DivX" / f"{dialog}.avi"
            avi.parent.mkdir(parents=True)
            write_video(avi, [frame] * 20, fps=5)
    return release


MELD_HEADER = (
    "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,"
    "Season,Episode,StartTime,EndTime"
)


def meld_row(number, text: str, speaker, emotion, sentiment, dialogue, utterance) -> str:
    quoted = '"' + text.replace('"', '""') + '"'
    fields = f"{number},{quoted},{speaker},{emotion},{sentiment},{dialogue},{utterance}"
    return fields + ',8,21,"00:16:16,059","00:16:21,731"'


def make_meld(root: Path) -> Path:
    """`root/MELD.Raw` with the three CSVs (mojibake, a raw 0x92 byte, a short row) and
    clips under train/, dev/, test/; dia0_utt2 of train has no clip. The test clip has
    six-channel 48 kHz AAC audio and a face, as real MELD clips do."""
    release = root / "MELD.Raw"
    release.mkdir(parents=True)
    train = [
        meld_row(
            1,
            "also I was the point person on my companyâ€™s transition",
            "Chandler",
            "neutral",
            "neutral",
            0,
            0,
        ),
        meld_row(
            2, "You must\x92ve had your hands full.", "The Interviewer", "neutral", "neutral", 0, 1
        ),
        meld_row(3, "That I did.", "Chandler", "joy", "positive", 0, 2),
        "4,Too short a row,Chandler",
    ]
    dev = [meld_row(1, "Oh my God, heâ€™s lost it.", "Phoebe", "surprise", "negative", 0, 0)]
    test = [
        meld_row(1, "Why do all youâ€™re mugs have numbers?", "Mark", "anger", "negative", 0, 0)
    ]
    for name, rows in (("train", train), ("dev", dev), ("test", test)):
        text = "\r\n".join([MELD_HEADER, *rows]) + "\r\n"
        # a lone 0x92 byte (not UTF-8), as in copies of the release saved as Windows-1252
        data = text.replace("\x92", "\udc92").encode("utf-8", errors="surrogateescape")
        (release / f"{name}_sent_emo.csv").write_bytes(data)
    small = [np.full((64, 64, 3), 128, np.uint8)] * 5
    clips = {
        "train/train_splits/dia0_utt0.mp4": (small, tone(0.5, 16_000)),
        "train/train_splits/dia0_utt1.mp4": (small, tone(0.5, 16_000)),
        "dev/dev_splits_complete/dia0_utt0.mp4": (small, tone(0.5, 16_000)),
        "test/output_repeated_splits_test/dia0_utt0.mp4": (
            [face_image()] * 10,
            tone(1.0, 48_000, channels=6),
        ),
    }
    for name, (frames, audio) in clips.items():
        path = release / name
        path.parent.mkdir(parents=True, exist_ok=True)
        rate = 48_000 if audio.shape[0] == 6 else 16_000
        write_video(path, frames, fps=10, audio=(audio, rate))
    (release / "train/train_splits/._dia0_utt0.mp4").write_bytes(b"\x00\x05\x16\x07")
    return release
