"""Transcripts of the demo corpus: English sentences per emotion, and shared sentences that
say nothing about the speaker's emotion (drawn for every class).

Every happy, sad and angry sentence holds at least one of its class's CUE_WORDS, so that a
reader, or a bag of words, that has seen a few of them recognises the others; neutral
sentences are matter-of-fact logistics. Some words are ambiguous on purpose ("stop" is also
in "can't stop crying" and "the bus stop").

`transcript(pool, rng)` picks one sentence of a pool and sometimes puts a discourse marker in
front ("Well, ..."), which every pool shares, so the marker carries no evidence.
"""

from __future__ import annotations

import numpy as np

CUE_WORDS = {
    "happy": ("happy", "love", "wonderful", "great", "glad"),
    "sad": ("sad", "miss", "lonely", "crying", "sorry"),
    "angry": ("angry", "hate", "stop", "sick", "furious"),
}

EMOTION_SENTENCES: dict[str, tuple[str, ...]] = {
    "neutral": (
        "The meeting has been moved to Thursday at ten.",
        "I put the report on the second shelf.",
        "The train leaves from platform four.",
        "We need two more chairs for the table.",
        "The store closes at six on weekdays.",
        "Please send me the file when it is ready.",
        "The package should arrive by Monday.",
        "I will take the bus into town later.",
        "The form asks for your address and phone number.",
        "There are twelve boxes in the hall.",
        "The printer is on the third floor.",
        "We can check the schedule again tomorrow.",
        "The bus stop is next to the bakery.",
        "I wrote the numbers down in the notebook.",
        "The lecture starts after the short break.",
        "The key is in the top drawer of the desk.",
        "Your appointment is at half past two.",
        "We moved the boxes to the basement.",
        "The weather report says it will be cloudy.",
        "Fill in the form and return it to the office.",
    ),
    "happy": (
        "This is wonderful news, I am so happy for you!",
        "I love it, thank you so much!",
        "What a great day, everything went perfectly!",
        "We won, I am so happy, we actually won!",
        "I'm so glad you came, this is fantastic!",
        "That was a great party, I loved every minute!",
        "Wonderful, the results are even better than we hoped!",
        "I got the job, this is wonderful!",
        "You made my day, I am so happy!",
        "Yes, we did it, I am so proud and happy!",
        "This is the best surprise, I love you all!",
        "Great news, the baby is healthy and beautiful!",
        "I'm so glad, what a lovely idea!",
        "Everything is perfect, I am so happy!",
        "Hooray, our holiday starts tomorrow, how wonderful!",
        "That is fantastic, congratulations, I am so glad!",
        "I am having such a great time, thank you!",
        "We passed, all of us passed, this is great!",
        "What a beautiful gift, I absolutely love it!",
        "I'm so excited and happy, this is the best!",
    ),
    "sad": (
        "I miss her so much, I can't stop crying.",
        "He's gone, and I miss him so much.",
        "I feel so lonely since they moved away.",
        "I lost my job today, I feel so sad.",
        "I'm so sad, I really thought he loved me.",
        "We lost our old dog, I can't stop crying.",
        "Nobody came to my birthday, I feel so lonely.",
        "I am so tired and sad, everything feels empty.",
        "I failed again, I'm sorry I let you down.",
        "My grandmother passed away, I am so sad.",
        "I miss him, I never said goodbye.",
        "It's over, she left me and I feel so lonely.",
        "I was crying all night, I feel hopeless.",
        "Nothing I do ever matters, I'm so sad.",
        "The house feels so empty, I miss him.",
        "I'm sorry, I just feel so lost and alone.",
        "We buried him this morning, it was terrible and sad.",
        "I miss the old days, I feel so sad.",
        "I'm heartbroken and sorry, it is all my fault.",
        "I feel hopeless and sad, I give up.",
    ),
    "angry": (
        "This is ridiculous, I am sick of your excuses!",
        "I am so angry, get out of my office!",
        "Stop lying to me, I hate it!",
        "I'm furious, you broke your promise!",
        "Stop it, I told you a hundred times!",
        "I hate you, you ruined everything!",
        "I hate this, it is completely unacceptable!",
        "Stop touching my things, I am sick of it!",
        "Enough, I'm sick of your stupid games!",
        "Shut up and listen, I am so angry!",
        "You never listen, I hate it!",
        "I am so angry I could scream!",
        "Who the hell do you think you are, I am furious!",
        "This is outrageous, I am furious!",
        "I'm sick of your lies, get lost!",
        "Stop it, you did this on purpose!",
        "I'm fed up and angry, fix it now!",
        "Stop wasting my time, this is a disgrace!",
        "Stop it, this is the third time!",
        "Damn it, I hate it when you do that!",
    ),
}

SHARED_SENTENCES = (
    "I need to tell you something about yesterday.",
    "So that's what happened at the station.",
    "Can you say that again, please?",
    "I didn't expect to see you here.",
    "We talked about it for a long time.",
    "She called me this morning.",
    "It was not what I thought it would be.",
    "Let me think about it for a second.",
    "You know what he said to me?",
    "I'm going to tell them everything.",
    "That was the last thing I expected.",
    "Do you really mean that?",
    "I just came back from the hospital.",
    "They finally made a decision.",
    "I saw the results this afternoon.",
    "Look at this letter I got.",
    "We have to talk about the money.",
    "He told me the whole story.",
    "I don't know what to say.",
    "It all happened so fast.",
    "Listen, I have to ask you something.",
    "This changes everything.",
    "I read the message twice.",
    "Guess who I met on the way home.",
)

DISCOURSE_MARKERS = ("Well, ", "So, ", "Oh, ", "Look, ", "Honestly, ", "You know, ")
MARKER_PROBABILITY = 0.3


def transcript(pool: tuple[str, ...], rng: np.random.Generator) -> str:
    """One sentence of `pool`, with a shared discourse marker in front 30 % of the time."""
    sentence = pool[int(rng.integers(len(pool)))]
    if rng.random() < MARKER_PROBABILITY:
        marker = DISCOURSE_MARKERS[int(rng.integers(len(DISCOURSE_MARKERS)))]
        first = sentence.split()[0]
        keep_capital = first == "I" or first.startswith("I'")
        sentence = marker + (sentence if keep_capital else sentence[0].lower() + sentence[1:])
    return sentence
