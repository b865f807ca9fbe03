"""Automatic transcripts: Whisper run by faster-whisper (CTranslate2), cached on disk.

`transcribe` turns clips into text; `fill_missing_transcripts` fills a manifest's empty
transcripts with it (`wavfusion data prepare ... --transcribe`, `wavfusion predict
--transcribe`).

`vad.SileroVAD` finds where the speech is in a long recording.
"""
