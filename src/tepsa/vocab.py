"""The service's shared vocabulary: urgency levels and protection categories.

Codes follow shared/spec/triage-guide.md; labels are what people read
(Bahasa Indonesia first, English second).
"""

from __future__ import annotations

URGENCIES = ("darurat", "tinggi", "sedang", "rendah")
URGENCY_RANK = {"rendah": 0, "sedang": 1, "tinggi": 2, "darurat": 3}

URGENCY_LABELS = {
    "darurat": ("Darurat", "Emergency"),
    "tinggi": ("Tinggi", "High"),
    "sedang": ("Sedang", "Medium"),
    "rendah": ("Rendah", "Low"),
}

# In the guide's precedence order (first wins as the primary category).
CATEGORY_LABELS = {
    "perdagangan": ("Penculikan, penjualan, perdagangan anak", "Abduction, sale, trafficking"),
    "terorisme": ("Korban jaringan terorisme", "Victim of a terrorist network"),
    "kejahatan_seksual": ("Kejahatan seksual", "Sexual crime"),
    "pornografi": ("Korban pornografi", "Victim of pornography"),
    "eksploitasi": ("Eksploitasi ekonomi/seksual", "Economic/sexual exploitation"),
    "kekerasan_fisik_psikis": ("Kekerasan fisik/psikis", "Physical/psychological violence"),
    "situasi_darurat": ("Anak dalam situasi darurat", "Child in an emergency situation"),
    "abh": ("Anak berhadapan dengan hukum", "Child in conflict with the law"),
    "napza": ("Korban NAPZA", "Victim of drugs/alcohol"),
    "penelantaran": ("Penelantaran", "Neglect"),
    "hiv_aids": ("Anak dengan HIV/AIDS", "Child with HIV/AIDS"),
    "disabilitas": ("Anak penyandang disabilitas", "Child with a disability"),
    "perilaku_menyimpang": ("Perilaku sosial menyimpang", "Deviant social behaviour"),
    "stigmatisasi": ("Stigmatisasi kondisi orang tua", "Stigmatised for a parent's condition"),
    "minoritas_terisolasi": ("Anak kelompok minoritas/terisolasi", "Child of a minority/isolated group"),
    "psikososial": ("Dukungan psikososial", "Psychosocial support"),
    "pengasuhan": ("Pengasuhan", "Care arrangements"),
    "layanan_lain": ("Layanan sosial lain", "Other social services"),
    "informasi": ("Informasi/konsultasi", "Information/consultation"),
    "bukan_kasus": ("Bukan kasus", "Not a case"),
}
CATEGORIES = tuple(CATEGORY_LABELS)


def category_label(code: str | None, lang: str = "id") -> str:
    if code is None:
        return "-"
    pair = CATEGORY_LABELS.get(code)
    return code if pair is None else pair[0 if lang == "id" else 1]


def urgency_label(code: str | None, lang: str = "id") -> str:
    if code is None:
        return "-"
    pair = URGENCY_LABELS.get(code)
    return code if pair is None else pair[0 if lang == "id" else 1]
