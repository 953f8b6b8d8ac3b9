"""Triage engine: contract, guide behaviours, robustness and speed."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from tepsa.triage.engine import RULESET_VERSION, TriageResult, ruleset_version, triage
from tepsa.triage.report_set import run_report_set

FIELDS = {"urgency", "category", "categories", "kabkota_kode", "kecamatan_kode", "desa_kode", "lat", "lon",
          "age", "child_sex", "reporter", "needs_review", "ruleset_version", "reasons"}
CATEGORIES = {"situasi_darurat", "abh", "minoritas_terisolasi", "eksploitasi", "napza", "pornografi", "hiv_aids",
              "perdagangan", "kekerasan_fisik_psikis", "kejahatan_seksual", "terorisme", "disabilitas",
              "penelantaran", "perilaku_menyimpang", "stigmatisasi", "psikososial", "pengasuhan", "layanan_lain",
              "informasi", "bukan_kasus"}


def test_must_pass_example():
    r = triage(["TOLONG anak tetangga sy lg dipukulin bapaknya skrg di kec. Tenayan Raya pekanbaru"])
    assert r.urgency == "darurat"
    assert r.category == "kekerasan_fisik_psikis"
    assert r.kabkota_kode == "14.71"
    assert r.kecamatan_kode == "14.71.10"
    assert r.lat is not None and r.lon is not None


def test_contract_shape():
    r = triage(["anak sy 7 th dipukul gurunya di Kota Kediri"])
    assert isinstance(r, TriageResult)
    assert dataclasses.is_dataclass(r) and r.__dataclass_params__.frozen
    d = r.to_dict()
    assert FIELDS <= set(d)
    json.dumps(d)
    assert d["ruleset_version"] == RULESET_VERSION == ruleset_version()
    assert d["category"] == d["categories"][0]
    assert set(d["categories"]) <= CATEGORIES
    assert all({"rule", "effect", "matched"} <= set(x) for x in d["reasons"])
    assert any(x["rule"].startswith("location.") for x in d["reasons"])
    assert any(x["rule"] == "age" for x in d["reasons"])


@pytest.mark.parametrize("messages", [
    [], [""], ["   "], ["😭😭😭"], ["\x00\x01\x02"], ["\u202e\u200b"], ["a" * 20000], ["1 2 3 4 5 6 7 8 9"],
    ["kec."], ["umur 999999999999999999 tahun"], ["…", "—", "🇮🇩"], [None], ["ﷺ ٱلله", "中文 测试"],
    ["...", "|||", ",,,"], ["tolong tolong tolong " * 500],
])
def test_never_raises(messages):
    r = triage(messages)
    assert r.urgency in {"rendah", "sedang", "tinggi", "darurat"}
    assert r.category in CATEGORIES
    json.dumps(r.to_dict())


def test_never_raises_random_unicode():
    rnd = random.Random(7)
    for _ in range(300):
        msgs = ["".join(chr(rnd.randint(0, 0x2FFFF)) for _ in range(rnd.randint(0, 60)))
                for _ in range(rnd.randint(0, 3))]
        pin = rnd.choice([None, {"lat": rnd.uniform(-90, 90), "lon": rnd.uniform(-180, 180)}, {"lat": "x"}, {}])
        r = triage(msgs, pin)
        assert r.urgency in {"rendah", "sedang", "tinggi", "darurat"}


def test_empty_report_is_not_a_case():
    r = triage([])
    assert r.category == "bukan_kasus" and r.urgency == "rendah"
    assert r.kabkota_kode is None and r.age is None


# -- urgency ---------------------------------------------------------------------
@pytest.mark.parametrize("text,urgency", [
    ("anak tetangga sy dipukulin bapaknya hampir tiap malam", "tinggi"),
    ("tolong, tetangga sy lagi mukulin anaknya pake ikat pinggang, anaknya teriak2", "darurat"),
    ("anak sy umur 6 thn td siang dipegang2 sm om tetangga di kamar", "darurat"),
    ("anak sy dicabuli penjaga sekolah 3 tahun lalu, pelaku sudah divonis dan dipenjara, anak baik2 saja", "sedang"),
    ("aku 12 thn, mama sering pukul aku, aku takut pulang nanti malam", "darurat"),
    ("anak tetangga umur 3 thn ditinggal sendirian di rumah dari kemarin", "darurat"),
    ("anak sy 14 thn sering nyakitin diri sendiri, gk pernah ngomong mau mati", "tinggi"),
    ("kak aku pengen mati aja, aku udah beli racun", "darurat"),
    ("anak sy stres mau ujian, susah tidur", "sedang"),
    ("mau tanya cara adopsi anak gimana ya", "rendah"),
    ("ponakan sy 15 thn mau dibawa agen ke malaysia, kapalnya malam ini", "darurat"),
])
def test_urgency(text, urgency):
    assert triage([text]).urgency == urgency


def test_prank_is_not_a_case():
    r = triage(["min ada anak dipukulin di rumah no 69", "cepetan dateng", "WKWKWK prank bang"])
    assert r.category == "bukan_kasus" and r.urgency == "rendah"


def test_negation_changes_category():
    r = triage(["anak tetangga bukan dicabuli, tapi dipukuli pakai sapu sama ibu tirinya, sudah sering"])
    assert r.category == "kekerasan_fisik_psikis"
    assert "kejahatan_seksual" not in r.categories
    r2 = triage(["tidak ada kekerasan ya, sy cuma mau tanya prosedur hak asuh"])
    assert "kekerasan_fisik_psikis" not in r2.categories


def test_precedence():
    r = triage(["anak sy 14 th ditangkap polsek krn nyuri, ternyata disuruh sm orang dewasa, dikasih upah"])
    assert r.categories[:2] == ["eksploitasi", "abh"]


def test_typo_tolerance():
    r = triage(["anak tetangga sy diperkoas pamannya kemarin malam"])
    assert r.category == "kejahatan_seksual"


def test_regional_language():
    r = triage(["halo mas iki bocah lanang tonggoku lagi dihajar bapake saiki neng delanggu klaten"])
    assert r.urgency == "darurat" and r.kabkota_kode == "33.10"


# -- location --------------------------------------------------------------------
@pytest.mark.parametrize("text,kab", [
    ("anak tetangga dipukul di kel. Rejosari kec. Tenayan Raya pekanbaru", "14.71"),
    ("kami tinggal di Lowokwaru Malang", "35.73"),
    ("alamat di Depok Sleman, deket UPN", "34.04"),
    ("kami di Cikupa Tangerang", "36.03"),
    ("rumah kami di Johar Baru Jakpus", "31.71"),
    ("mantan suami bawa anak ke rumah ortunya di Curup. sy di Palembang", "17.02"),
    ("aku di Jakarta", None),          # province only
    ("anak sy di Bogor", None),        # Kabupaten or Kota Bogor: do not guess
    ("saya mau tanya", None),
])
def test_location_text(text, kab):
    assert triage([text]).kabkota_kode == kab


def test_location_pin_first():
    r = triage(["ada anak dipukulin di sini, di Kota Medan"], {"lat": 0.5, "lon": 101.45})
    assert r.kabkota_kode == "14.71"
    assert (r.lat, r.lon) == (0.5, 101.45)
    assert any(x["rule"] == "location.pin" for x in r.reasons)


# -- age -------------------------------------------------------------------------
@pytest.mark.parametrize("text,age", [
    ("anak sy umur 7 th", 7),
    ("umure sewelas tahun", 11),
    ("anak laki2 kira2 12 taun", 12),
    ("anak2 sy (8 dan 10 thn)", None),
    ("anak usia 6-10 th", None),
    ("bayi laki2 usia 10 bulan", 0),
    ("ada bayi dibuang", 0),
    ("anak sy kls 2 SMP", None),
    ("siswi kami kls 11 (16 th)", 16),
    ("ibu (32 th) menjual video anaknya", None),
    ("BPJS nunggak 1 thn, anak sy 2 thn", 2),
    ("dia umur lima belas tahun", 15),
])
def test_age(text, age):
    assert triage([text]).age == age


def test_run_report_set():
    rows = [{"id": "A1", "messages": ["tes"], "location_pin": None, "labels": {"urgency": "x"}},
            {"id": "A2", "messages": ["anak dipukul"], "location_pin": {"lat": 0.5, "lon": 101.45}}]
    out = list(run_report_set(rows))
    assert [o["id"] for o in out] == ["A1", "A2"]
    assert out[0]["category"] == "bukan_kasus"
    assert out[1]["kabkota_kode"] == "14.71"
    assert FIELDS <= set(out[0])


# Situations worded in ways the rules were not written from (other verbs, regional words, English,
# chat spelling): the engine must recognise the situation, not the phrase.  Written for the
# ruleset 2026.11.24-2 generalisation round; none is copied from a labelled set.
GENERALISATION = [
    ('darurat', 'kekerasan_fisik_psikis', 'mbak tulung, bocah cilik tonggoku lagi diantemi bapake, njerit2 terus'),
    ('darurat', 'kekerasan_fisik_psikis', 'teteh, budak tatangga keur digebugan ku bapana ayeuna, ceurik wae'),
    ('darurat', 'kejahatan_seksual', 'adik sy 10 th tadi siang digerayangi tukang ojek langganannya'),
    ('tinggi', 'kejahatan_seksual', 'anak sy 15 th hamil, ternyata yg menghamili bapak tirinya sendiri'),
    ('darurat', 'penelantaran', 'ada bayi di depan pintu masjid dalam kardus, gak ada yang ngaku'),
    ('tinggi', 'eksploitasi', 'anak2 umur 10an disuruh mucikari melayani tamu di kos2an'),
    ('tinggi', 'napza', 'ponakan sy 14 th ketahuan ngelem dan minum ciu tiap malam minggu'),
    ('darurat', 'psikososial', 'kak aku pengen ilang aja dari dunia ini, aku udah beli racun tikus'),
    ('tinggi', 'psikososial', 'aku ngerasa gak ada gunanya hidup, pengen mati aja tapi gak tau caranya'),
    ('sedang', 'hiv_aids', 'anak sy 7 th positif HIV, minum ARV rutin, mau tanya bantuan susu'),
    ('darurat', 'situasi_darurat', 'gempa barusan, ada anak2 terjebak reruntuhan sekolah'),
    ('tinggi', 'abh', 'anak sy 16 th diciduk polisi semalam gara2 ikut tawuran, sekarang di polsek'),
    ('rendah', 'informasi', 'selamat pagi, nomor pengaduan kekerasan anak di kota medan berapa ya'),
    ('tinggi', 'kekerasan_fisik_psikis', 'si kakak sering main tangan ke adiknya, kemarin sampe lebam2 di lengan'),
    ('darurat', 'perdagangan', 'anak sy 13 th dibawa kabur orang yg dikenal di facebook, katanya mau dikasih kerja, skrg hp nya mati'),
    ('sedang', 'kekerasan_fisik_psikis', 'anak sy diejek dan dikatain bodoh terus sama gurunya'),
    ('darurat', 'perilaku_menyimpang', 'anak sy 13 th minggat dr rumah sejak semalam, hp nya gk aktif, temen2nya gk tau'),
    ('darurat', 'penelantaran', 'ada 2 bocah umur 4 sama 2 taun ditinggal emaknya dr kemarin di kontrakan, nangis kelaparan'),
    ('darurat', 'kekerasan_fisik_psikis', 'bapak e lagi ngamuk, adikku dibanting ke lantai, aku sembunyi di kamar mandi'),
    ('darurat', 'kejahatan_seksual', 'semalam adikku (11) diperkosa sama pamannya sendiri, skrg pamannya masih di rumah'),
    ('tinggi', 'kejahatan_seksual', 'anak sy 8 th cerita sering disuruh buka celana sama kakek tetangga waktu main ke rumahnya, terakhir bulan lalu'),
    ('darurat', 'perdagangan', 'anak sy 15 th diajak teman fb ke batam katanya kerja di cafe, skrg gk bisa dihubungi sudah 3 hari'),
    ('tinggi', 'eksploitasi', 'anak usia 12 th jadi buruh di pabrik batu bata dari pagi sampai sore, gak sekolah'),
    ('tinggi', 'pornografi', 'ada om2 di game online minta anak sy 12 th kirim foto tanpa baju, anak sy udah kirim 2 kali'),
    ('darurat', 'psikososial', 'aku barusan minum obat banyak banget kak, pusing'),
    ('tinggi', 'napza', 'anak sy 15 th kecanduan pil koplo, sering mencuri uang buat beli'),
    ('sedang', 'disabilitas', 'anak sy tuna netra umur 9 th belum bisa sekolah krn gk ada SLB dekat rumah'),
    ('darurat', 'kekerasan_fisik_psikis', 'tolong, anak tetangga disiram air panas sama ibu tirinya tadi pagi, kulitnya melepuh'),
    ('tinggi', 'kekerasan_fisik_psikis', 'anak sy dipukuli kakak kelas di sekolah sampai lebam, sudah 3 kali bulan ini'),
    ('darurat', 'situasi_darurat', 'kebakaran di pemukiman, ada anak umur 5 th belum ketemu orang tuanya'),
    ('rendah', 'pengasuhan', 'sy mau tanya cara jadi orang tua asuh'),
    ('sedang', 'stigmatisasi', 'anak sy dijauhi teman sekolah krn ibunya dipenjara kasus narkoba'),
    ('rendah', 'bukan_kasus', 'hallo ini nomor apa ya, td ada miscall'),
    ('tinggi', 'kekerasan_fisik_psikis', 'suami sy suka gebukin anak kami yg 10 th kalau mabuk, terakhir minggu lalu'),
    ('darurat', 'kekerasan_fisik_psikis', 'sa pu ade dong pukul sampe de pingsan td malam, skrg de masih tra sadar'),
    ('tinggi', 'perdagangan', 'anak gadis tetangga umur 16 dijual bapaknya ke laki2 tua buat lunasi hutang, dinikahkan bulan lalu'),
    ('darurat', None, 'tolong kak adikku lagi ditonjokin bapak tiri skrg di rumah'),
    ('darurat', None, 'pak ada anak kecil digebukin ibunya sekarang, kedengeran teriak2 minta tolong'),
    ('darurat', None, 'anak sy 12 th diperkosa tetangga 2 hari yang lalu, pelakunya masih berkeliaran'),
    ('darurat', None, 'anak perempuan saya hilang sejak tadi pagi, tidak bisa dihubungi, umur 9 tahun'),
    ('darurat', None, "my neighbour's son is being beaten right now, I can hear him screaming"),
    ('darurat', None, 'aku udah nelen 15 butir obat tidur kak'),
    ('darurat', None, 'sy udh gk kuat, malam ini aku mau gantung diri, talinya udh ada'),
    ('darurat', None, 'ada balita 2 th ditinggal sendirian di rumah dari pagi, ibunya pergi'),
    ('darurat', None, 'anak tetangga dikurung di gudang sama bapaknya sudah 2 hari'),
    ('darurat', None, 'keponakan sy 15 th mau dibawa agen ke malaysia besok subuh, paspornya dipalsukan'),
    ('darurat', None, 'banjir bandang di kampung kami, ada 3 anak yg orang tuanya hilang terseret arus'),
    ('darurat', None, 'anak sy dipukul suami sampai pingsan tadi malam, sekarang belum sadar'),
    ('darurat', None, 'dia bilang om nya nanti malam mau datang lagi ke kamarnya, dia dicabuli om nya'),
    ('darurat', None, 'anak saya 16 tahun dicekoki miras sama teman2nya barusan, skrg gk sadar'),
    ('tinggi', None, 'anak sy sering dipukuli ayahnya pakai sabuk kalau nilainya jelek'),
    ('tinggi', None, 'waktu kelas 3 SD aku pernah dicabuli kakek, sekarang aku 15 th, kakek masih tinggal serumah'),
    ('tinggi', None, 'anak tetangga umur 13 disuruh ngamen tiap hari sama ibunya sampai malam'),
    ('tinggi', None, 'anak sy ketahuan pakai ganja sama teman sekolahnya'),
    ('tinggi', None, 'anak sy 15 th ditangkap polisi krn ikut begal, skrg di polres'),
    ('tinggi', None, 'aku sering nyayat tangan pake cutter kalo stress'),
    ('sedang', None, 'anak tetangga umur 8 th gk sekolah, bajunya kotor, sering dititip ke tetangga'),
    ('sedang', None, 'anak sy 10 th autis, butuh terapi wicara, dimana ya yg gratis'),
    ('sedang', None, 'anak sy diejek teman2nya anak napi karena bapaknya dipenjara'),
    ('sedang', None, 'anak sy 13 th sering bolos dan main judi online'),
    ('rendah', None, 'mau tanya syarat adopsi anak gimana ya'),
    ('rendah', None, 'bukan dipukul kok, cuma dimarahi aja sama gurunya, mau tanya wajar gak'),
    ('rendah', None, 'tidak ada kekerasan, saya cuma mau tanya cara buat akta kelahiran'),
    ('rendah', None, 'kami mau mengundang narasumber sosialisasi pencegahan kekerasan seksual di sekolah'),
    ('tinggi', None, 'anak sy 14 th difoto telanjang sama pacarnya terus diancam mau disebar'),
    ('darurat', None, 'anak sy 7 th belum pulang dari kemarin sore, sudah dicari kemana2 tidak ketemu'),
    ('tinggi', None, 'anak sy 9 th cerita dipegang2 kemaluannya sama penjaga sekolah bulan lalu, penjaganya sudah dipecat'),
    ('darurat', None, 'anak sy 12 th gk ada di kamarnya pagi ini, jendela terbuka, hp nya ditinggal'),
    ('darurat', None, 'adik saya 6 th dibawa pergi mantan pacar ibunya, kami tidak tahu di mana sekarang'),
    ('darurat', None, 'bayi 8 bulan demam tinggi kejang, ibunya tidak mau bawa ke puskesmas'),
    ('darurat', None, 'anak tetangga umur 5 tahun dari kemarin tidak dikasih makan, dikunci di rumah'),
    ('darurat', None, 'tolong aku dikunci di kamar sama ayah dari kemarin'),
    ('darurat', None, 'my daughter is 14 and has been missing since yesterday'),
    ('darurat', None, 'ada anak2 terjebak banjir di atap rumah, air makin tinggi'),
    ('darurat', None, 'anak saya 15 th dirudapaksa tadi malam oleh 3 pemuda'),
    ('darurat', None, 'ayah tiri sy tiap malam pegang2 sy, malam ini ibu sy dinas luar kota, sy takut'),
    ('darurat', None, 'kak aku udah nyayat nadi, darahnya banyak'),
    ('darurat', None, 'anak sy 16 th dijemput paksa orang yang ngaku polisi, tidak tahu dibawa ke mana'),
    ('darurat', None, 'ada anak kecil kira2 3 th main sendirian di pinggir jalan raya, gak ada orang tuanya'),
    ('darurat', None, 'adik aku 14 th diajak ketemuan sama cowok kenalan ig, sampai sekarang belum pulang'),
    ('darurat', None, 'suami saya ngamuk bawa parang, anak2 sembunyi di kamar'),
    ('darurat', None, 'anakku 16 th overdosis sabu, kejang2'),
    ('darurat', None, 'anak tetangga digantung terbalik sama bapaknya di pohon, masih di sana'),
    ('darurat', None, 'bocah umur 9 taun dirantai di kandang sapi karo bapake'),
    ('darurat', None, 'anak sy 10 th ketabrak motor, pengendaranya kabur, anak sy gk sadar'),
    ('darurat', None, 'ada anak perempuan 13 th dibawa masuk ke hotel sama om2, barusan'),
    ('darurat', None, 'sy 16 th, pacar sy ngancam bunuh sy kalo sy putusin, dia lagi di depan rumah bawa pisau'),
    ('tinggi', 'kekerasan_fisik_psikis', 'anak sy kls 4 sering ditempeleng gurunya kalo gk bisa jawab, kemarin pipinya merah'),
    ('tinggi', 'kejahatan_seksual', 'keponakan sy 12 th digagahi pacar ibunya, sudah 3 bulan lalu, skrg pacar ibunya sudah pergi'),
    ('tinggi', 'eksploitasi', 'anak2 umur 8-12 tahun disuruh jualan koran di perempatan sampai malam oleh seorang bapak, uangnya disetor'),
    ('tinggi', 'napza', 'murid sy kls 9 ketahuan bawa tembakau gorila di sekolah dan ngisap bareng temennya'),
    ('sedang', 'penelantaran', 'anak tetangga umur 9 th sering gk dikasih sarapan, badannya kurus, ibunya sibuk main hp'),
    ('sedang', 'perilaku_menyimpang', 'anak sy 15 th ikut klitih sama geng nya, sering pulang pagi'),
    ('sedang', 'disabilitas', 'anak sy 4 th belum bisa ngomong, kata dokter speech delay, terapi di mana ya yg murah'),
    ('sedang', 'hiv_aids', 'anak asuh kami 11 th ODHA, sekolah menolak menerima dia'),
    ('rendah', 'layanan_lain', 'anak sy blm punya akte lahir, ngurusnya gimana ya'),
    ('rendah', 'informasi', 'apakah TepSA bisa jadi narasumber seminar parenting di kampus kami?'),
    ('tinggi', 'psikososial', 'anak sy 13 th sering bilang pengen mati aja kalau dimarahi, gak ada rencana apa2'),
    ('sedang', 'psikososial', 'aku cemas banget mau ujian, gak bisa tidur kak'),
    ('tinggi', 'abh', 'anak sy 15 th jadi tersangka kasus pencurian motor, besok dipanggil polres'),
    ('sedang', 'minoritas_terisolasi', 'anak2 suku anak dalam di desa kami gak punya akta dan gak sekolah'),
    ('sedang', 'pengasuhan', 'sy nenek umur 70 th, gak kuat lagi ngurus 3 cucu, ortunya merantau'),
    ('darurat', 'kejahatan_seksual', 'adik sy 9 th tadi siang dicolek2 dan diremas dadanya sama tukang parkir'),
    ('darurat', 'kejahatan_seksual', 'anak sy 8 th kemarin sore disuruh buka celana sama tetangga'),
    ('tinggi', 'pornografi', 'video siswi dipaksa buka baju sama teman sekelas, direkam dan disebar di grup'),
    ('darurat', 'abh', 'anak sy 15 th ditahan di polsek satu sel sama orang dewasa sejak kemarin'),
    ('tinggi', 'abh', 'anak sy 14 th dilaporkan ke polisi krn berkelahi, besok diperiksa'),
    ('darurat', 'situasi_darurat', 'rumah kami kebanjiran, anak saya umur 7 terpisah waktu evakuasi, belum ketemu'),
    ('sedang', 'situasi_darurat', 'kami di pengungsian gempa, anak2 sehat bersama orang tua tapi butuh tempat belajar'),
    ('tinggi', 'situasi_darurat', 'pasca longsor ada 2 anak yatim piatu, orang tuanya meninggal, sekarang diasuh paman di posko'),
    ('rendah', 'kekerasan_fisik_psikis', 'cuma mau kabarin, kasus anak yg dipukul kemarin sudah ditangani, anaknya sekarang aman sama neneknya'),
    ('rendah', 'informasi', 'anak saya tidak pernah disentuh siapa2, saya cuma mau tanya cara mengajarkan pendidikan seks'),
    ('rendah', 'informasi', 'gak sampai dipukul kok, cuma mau nanya cara menegur anak yg bandel'),
    ('sedang', 'kekerasan_fisik_psikis', 'dulu waktu kecil anak sy pernah dipukul bapaknya, skrg sudah aman tinggal dgn nenek'),
    ('rendah', 'bukan_kasus', 'wkwkwk cuma iseng min'),
]


@pytest.mark.parametrize("urgency,category,text", GENERALISATION)
def test_generalisation_wording(urgency, category, text):
    r = triage([text])
    assert r.urgency == urgency, r.reasons
    if category is not None:
        assert r.category == category, r.reasons


@pytest.mark.parametrize("messages", [
    ["kak", "aku diperkosa pacarku", "tadi malam"],
    ["min", "adik sy 5 th hilang", "dari tadi siang belum ketemu"],
    ["aku pengen mati", "udah siapin obat banyak"],
    ["bapak tiri aku suka mukul", "malam ini dia pulang", "aku takut"],
])
def test_signal_split_over_chat_messages(messages):
    # a short follow-up message ("tadi malam") qualifies the one before it
    assert triage(messages).urgency == "darurat"


def test_long_neighbouring_message_does_not_date_old_abuse():
    r = triage(["semester lalu anak sy (13 th) sering dicabuli ustaznya di pondok, sekarang sudah pindah kamar",
                "anak sy sudah sy jemput pulang kemarin dan sekarang di rumah sama sy, ustaznya masih mengajar"])
    assert r.urgency != "darurat"
    assert r.category == "kejahatan_seksual"


# Round 2026.11.24-3: new wording for the same situations (written for these tests, not taken from a report set)
ROUND3 = [
    ('tinggi', None, 'kak aku cewek 14 th, om aku suka maksa aku nemenin dia di kamar kalo tante kerja, aku takut'),
    ('tinggi', None, 'anak tetangga umur 9 tahun kelihatan ketakutan tiap bapaknya pulang, badannya banyak luka'),
    ('tinggi', 'pornografi', 'aku 15 th, pacarku bilang kalo aku gak mau kirim foto lagi videonya mau disebar ke grup kelas'),
    ('tinggi', 'kejahatan_seksual', 'anak sy 10 th dicabuli tetangga seminggu lalu, baru cerita tadi pagi'),
    ('darurat', 'kejahatan_seksual', 'adik aku 13 th digituin sama pacarnya semalem di kosan, dia nangis terus'),
    ('tinggi', 'kejahatan_seksual', 'ponakan sy 11 th sering dicabuli kakeknya, terakhir minggu kemarin, kakeknya masih serumah'),
    ('darurat', 'kejahatan_seksual', 'sy satpam penginapan, tadi ada bapak2 check in sama anak sekolah kira2 14 th, sekarang di kamar'),
    ('tinggi', 'eksploitasi', 'tiap sore ada bocah kecil disuruh minta minta di lampu merah sama ibu ibu yang nunggu di warung'),
    ('tinggi', 'penelantaran', 'dua anak tetangga umur 7 dan 9 tinggal berdua saja di rumah, ibunya pergi sudah seminggu'),
    ('tinggi', 'penelantaran', 'ada anak kira2 11 th tiap malam tidur di emperan ruko, katanya bapaknya sudah tidak urus'),
    ('tinggi', 'abh', 'ponakan sy 16 th ditangkap polisi semalam katanya ikut tawuran, sekarang di polsek'),
    ('tinggi', 'abh', 'aku 17 th dapat surat panggilan dari polres sebagai terlapor kasus pencemaran nama baik'),
    ('tinggi', 'kejahatan_seksual', 'guru itu sudah dilaporkan ke polisi karena mencabuli murid kelas 5'),
    ('darurat', 'situasi_darurat', 'ada baku tembak di kampung, dua anak kecil sampai di gereja sendirian, orang tuanya tidak tahu dimana'),
    ('tinggi', 'situasi_darurat', 'pasca banjir bandang anak 6 th kehilangan kedua orang tua, sekarang diasuh bibinya di posko'),
    ('sedang', 'stigmatisasi', 'anak sy dipanggil anak gila sama teman sekelas karena bapaknya sakit jiwa'),
    ('tinggi', 'eksploitasi', 'anak2 umur 12 th kerja di tambang pasir di sungai, minggu lalu satu hampir tenggelam'),
    ('darurat', None, 'tolong ada anak kecil hanyut di sungai dekat jembatan barusan'),
    ('tinggi', 'napza', 'anak sy 15 th kemarin mabuk sampai pingsan, sekarang sudah sadar, dia sering minum tuak'),
    ('sedang', 'psikososial', 'aku stres banget sama tugas sekolah tapi aku gak kepikiran bunuh diri kok kak'),
    ('rendah', None, 'selamat pagi, ini ibu dari klien kasus no 2231, kursi roda anak sy sudah diterima, terima kasih banyak'),
    ('darurat', 'perdagangan', 'anak saya 5 th hilang di alun alun, kata orang dibawa seorang laki laki naik motor'),
    ('sedang', 'penelantaran', 'anak 8 th tidak sekolah, ortunya kerja di tambang, anaknya dititipkan ke nenek yang sudah tua'),
    ('sedang', 'perilaku_menyimpang', 'anak sy 14 th kecanduan judi online, kalau dilarang dia ngamuk banting pintu'),
    ('tinggi', 'kekerasan_fisik_psikis', 'anak tetangga sering dilempar piring sama ibunya, kepalanya pernah benjol'),
    ('tinggi', 'kekerasan_fisik_psikis', 'adikku 10 th sering dijedotin kepalanya ke tembok sama bapak tiri'),
    ('tinggi', 'kekerasan_fisik_psikis', 'anak sy dicakar dan digigit sama pengasuhnya, badannya penuh bekas'),
    ('tinggi', 'kekerasan_fisik_psikis', 'my nephew is 8, his stepfather hits him with a belt almost every day'),
    ('tinggi', 'kejahatan_seksual', 'anak sy 7 th cerita kalau penjaga sekolah suka cium cium dia dan pegang dadanya'),
    ('tinggi', 'kejahatan_seksual', 'my 12 year old daughter was sexually assaulted by her tutor last month'),
    ('tinggi', 'kejahatan_seksual', 'anak sy 14 th disuruh oral sama kakak kelasnya bulan lalu'),
    ('tinggi', 'eksploitasi', 'anak 13 th disuruh jadi kernet bus sama pamannya dari subuh sampe malam, gak sekolah'),
    ('tinggi', 'eksploitasi', 'ada anak gadis 15 th dijadikan ladies di cafe dekat pelabuhan, disuruh temani tamu'),
    ('tinggi', 'perdagangan', 'keponakan sy 16 th dibawa orang ke batam katanya kerja di restoran, sekarang disuruh melayani tamu'),
    ('darurat', 'perdagangan', 'anak sy 15 th dibawa kabur pria yg dikenal di facebook, sudah 2 hari hp nya tidak aktif'),
    ('tinggi', 'napza', 'anak sy 14 th ketahuan nyabu sama teman2 nya di bengkel'),
    ('tinggi', 'napza', 'murid sy kelas 8 sering ngisap lem di belakang sekolah'),
    ('tinggi', 'pornografi', 'ada akun yang nyebarin foto bugil siswi SMP di grup telegram'),
    ('tinggi', 'pornografi', 'adikku 13 th diancam cowok kenalan game, kalau gak kirim foto telanjang dia sebar fotonya'),
    ('darurat', 'kekerasan_fisik_psikis', 'tolong tetangga sy lagi nyiksa anaknya, anaknya jerit jerit dari tadi'),
    ('darurat', 'kekerasan_fisik_psikis', 'aku 12 th, bapak lagi mabuk dan mukulin aku, aku ngumpet di kamar mandi'),
    ('darurat', 'psikososial', 'kak aku udah gak kuat, malam ini aku mau loncat dari jembatan'),
    ('darurat', None, 'adik aku 4 th ditinggal sendirian di rumah dari pagi, ibunya gak pulang pulang'),
    ('darurat', 'penelantaran', 'ada bayi ditaruh di depan masjid dalam kardus, masih merah'),
    ('sedang', 'penelantaran', 'anak tetangga umur 10 sering gak mandi, bajunya kotor, gak disekolahin sama ortunya'),
    ('sedang', 'disabilitas', 'anak sy 6 th tuna rungu, butuh alat bantu dengar'),
    ('sedang', 'hiv_aids', 'anak asuh kami 9 th positif HIV butuh pendampingan minum obat'),
    ('sedang', 'stigmatisasi', 'anak sy dikucilkan di sekolah karena bapaknya napi narkoba'),
    ('sedang', 'perilaku_menyimpang', 'anak sy 15 th sering bolos dan ikut balap liar tiap malam minggu'),
    ('tinggi', 'abh', 'anak sy 16 th diciduk polisi waktu ikut demo, masih ditahan di polres'),
    ('darurat', 'abh', 'anak sy 15 th ditahan di polsek campur sama tahanan dewasa'),
    ('darurat', 'kejahatan_seksual', 'anak sy 12 th mau dinikahkan besok sama duda 45 th'),
    ('rendah', 'informasi', 'selamat siang, layanan ini buka jam berapa ya?'),
    ('rendah', 'layanan_lain', 'mau tanya cara bikin akta kelahiran untuk anak yang lahir di rumah'),
    ('tinggi', 'penelantaran', 'anak 8 th tinggal sendiri di gubuk, ibunya jadi TKW, bapaknya entah kemana'),
    ('darurat', 'situasi_darurat', 'tolong rumah kami kebakaran, anak saya 6 th masih di dalam'),
    ('tinggi', 'kekerasan_fisik_psikis', 'anak sy dikeroyok teman2 sekolahnya sampai memar, sekarang tidak mau sekolah'),
    ('darurat', 'kekerasan_fisik_psikis', 'aku 13 th, tadi dipukul pakai besi sama kakak, kepalaku berdarah terus'),
    ('tinggi', 'kekerasan_fisik_psikis', 'bocah tonggoku umur 7 taun saben dino digebuki mbokne nganggo sapu'),
    ('tinggi', 'kekerasan_fisik_psikis', 'budak tatangga umur 8 taun sok dipeupeuh ku bapana'),
    ('tinggi', 'kekerasan_fisik_psikis', 'ana anak 9 taon dong pukul deng kayu tiap hari'),
    ('darurat', 'kekerasan_fisik_psikis', 'tulung mas bocah cilik lagi diantemi bapake saiki, nangis njerit jerit'),
    ('tinggi', 'kejahatan_seksual', 'anakku wedok 11 taun digrayangi pakdhe ne wingi sasi'),
    ('tinggi', 'kejahatan_seksual', 'ank sy 13th dilecehin guru les nya, dipegang2 dadanya'),
    ('tinggi', 'kejahatan_seksual', 'adek aku dicabulin ama tetangga sebelah minggu lalu'),
    ('darurat', 'kejahatan_seksual', 'kak aku diperkosa pacarku td mlm di kosannya, aku 16'),
    ('tinggi', 'penelantaran', 'ado budak umua 9 taun tingga surang di rumah, amak apaknyo marantau'),
    ('tinggi', 'eksploitasi', 'anak2 umur 10an disuruh bosnya mulung sampah dari subuh, uangnya dipotong'),
    ('tinggi', 'eksploitasi', 'ada anak 12 th jadi buruh di perkebunan sawit, gak sekolah'),
    ('darurat', 'perdagangan', 'tolong ponakan sy 14 th diculik om2 pake mobil avanza tadi sore'),
    ('tinggi', 'napza', 'anak sy 15 th sering nge-lem sama teman2nya di kolong jembatan'),
    ('tinggi', 'napza', 'anakku 14 taun kecanduan obat tramadol'),
    ('darurat', 'psikososial', 'aku pengen mati aja kak, aku udh beli racun tikus'),
    ('tinggi', 'psikososial', 'aku sering ngiris tangan pake cutter kak'),
    ('sedang', 'psikososial', 'aku sedih terus semenjak papa meninggal, gak mau ngapa2in'),
    ('tinggi', 'perilaku_menyimpang', 'anak sy 15 th ikut geng motor, sering bawa sajam'),
    ('darurat', 'perilaku_menyimpang', 'anak sy 14 th kabur dr rumah sejak kemarin, hp nya mati, gk ada kabar'),
    ('tinggi', 'kekerasan_fisik_psikis', 'my neighbour burns her son with cigarettes when he cries'),
    ('darurat', None, 'please help, a man is beating a small child in the street right now'),
    ('tinggi', 'eksploitasi', 'a 13 year old girl is working as a maid for a family here, she is not paid and does not go to school'),
    ('tinggi', 'kekerasan_fisik_psikis', 'anak sy sering dipukulin pake gesper sama bapaknya kalo nilai jelek'),
    ('sedang', 'kekerasan_fisik_psikis', 'anak sy dibully temen2nya di grup wa, dikatain gendut'),
    ('tinggi', 'kekerasan_fisik_psikis', 'anak tetangga sering disulut rokok sama ayah tirinya'),
]


@pytest.mark.parametrize("urgency,category,text", ROUND3)
def test_round3_wording(urgency, category, text):
    r = triage([text])
    assert r.urgency == urgency, r.reasons
    if category is not None:
        assert r.category == category, r.reasons


def test_unrecognised_harm_is_reviewed_at_tinggi():
    # a specific child with fear or force in wording no rule knows: never a plain question
    r = triage(["kak aku cewek 14 th, om aku suka maksa aku nemenin dia di kamar kalo tante kerja, aku takut"])
    assert r.urgency in ("tinggi", "darurat") and r.needs_review
    r = triage(["mau tanya, anak sy 12 th bantu jaga warung, bukan dipaksa. apa itu termasuk eksploitasi? takut salah"])
    assert r.urgency == "rendah"


def test_refusal_in_a_condition_is_not_a_negation():
    r = triage(["aku 15 th, dia bilang kalo aku gak mau kirim foto lagi videonya mau disebar"])
    assert r.category == "pornografi"


def test_sexual_assault_older_than_72_hours_is_not_darurat():
    assert triage(["anak sy 9 th dicabuli guru ngajinya 5 hari lalu"]).urgency == "tinggi"
    assert triage(["anak sy 9 th dicabuli guru ngajinya 2 hari lalu"]).urgency == "darurat"
    assert triage(["ponakan sy 12 th disetubuhi bapaknya, terakhir bulan kemarin"]).urgency == "tinggi"


# Round 2026.11.24-3: the guide's darurat signs and everyday sedang/rendah requests in fresh wording
ROUND3_SIGNS = [
    ('darurat', None, 'kak tolong bapak aku lagi ngamuk, adikku dicekik, aku di kamar'),
    ('darurat', None, 'tetangga sy skrg lagi gebukin anaknya pake sapu, anaknya teriak2'),
    ('darurat', None, 'aku 14 th, ayah tiri bilang nanti malam aku mau dihajar lagi kalo ibu gak pulang, aku takut'),
    ('darurat', None, 'adik aku 11 th diperkosa sepupu kemarin malam, belum dibawa ke dokter'),
    ('darurat', None, 'anak sy 13 th dari kemarin pagi gak pulang, temennya bilang dibawa cowok yang baru dikenal di tiktok'),
    ('darurat', None, 'ponakan sy 15 th lagi di pelabuhan mau dibawa ke malaysia sama agen malam ini'),
    ('darurat', None, 'aku udah nelen 15 butir obat tidur kak, pusing banget'),
    ('darurat', None, 'aku mau gantung diri malam ini, talinya udah ada'),
    ('darurat', None, 'anak tetangga 6 th dipukul bapaknya sampai kepalanya bocor, darahnya banyak, tadi siang'),
    ('darurat', None, 'anak 7 th di kontrakan sebelah sudah 3 hari gak dikasih makan, lemas banget'),
    ('darurat', None, 'ada balita umur 2 th sendirian di rumah dari pagi, ibunya pergi gak balik balik'),
    ('darurat', None, 'anak 10 th dikurung di gudang sama majikan ibunya, gak boleh keluar'),
    ('darurat', None, 'banjir bandang, ada anak 5 th terseret arus, orang tuanya belum ketemu'),
    ('darurat', None, 'anak sy 16 th ditahan di polres satu sel sama orang dewasa'),
    ('darurat', None, 'anak sy 9 th hilang sejak tadi pagi di pasar, sudah dicari gak ketemu'),
    ('darurat', None, 'adik aku 12 th barusan dilecehkan sopir angkot, dia nangis di rumah'),
    ('darurat', None, 'aku 15 th, pacarku maksa aku berhubungan badan tadi malam di rumahnya'),
    ('darurat', None, 'anak sy 4 th demam tinggi dan kejang kejang sekarang, gak ada kendaraan'),
    ('darurat', None, 'there is a 6 year old locked in a room alone since yesterday, parents are gone'),
    ('darurat', None, 'my daughter 13 was raped last night by a neighbour'),
    ('darurat', None, 'tolong pak anak sy diculik mantan suami sy tadi siang, dibawa ke luar kota'),
    ('darurat', None, 'aku kabur dari rumah karena dipukuli ibu, sekarang aku di terminal, gak berani pulang malam ini'),
    ('darurat', None, 'kak aku lagi di kamar mandi sekolah, aku udah nyilet tangan, darahnya gak berhenti'),
    ('darurat', None, 'anak tetangga 8 th dirantai di belakang rumah sama bapaknya'),
    ('darurat', None, 'ada bayi ditinggal di pos ronda dalam kardus, masih ada tali pusatnya'),
    ('tinggi', None, 'anak sy 8 th sering dipukul bapaknya kalau mabuk, terakhir minggu lalu'),
    ('tinggi', None, 'murid sy 10 th cerita sering dipegang2 kemaluannya sama kakeknya, kakeknya tinggal serumah'),
    ('tinggi', None, 'anak sy 15 th ketahuan ngelem di rumah temannya tiap malam minggu'),
    ('tinggi', None, 'anak sy 16 th kerja di kapal ikan, gak dibayar, pulang tiap 2 minggu'),
    ('rendah', 'informasi', 'selamat pagi, kami dari sekolah mau mengundang petugas untuk sosialisasi perlindungan anak, caranya gimana?'),
    ('rendah', 'informasi', 'mau tanya, kalau mau lapor kasus kekerasan anak harus bawa apa aja ya?'),
    ('rendah', 'informasi', 'kak, nomor ini bisa ditelpon dari luar negeri gak?'),
    ('rendah', 'layanan_lain', 'anak sy belum punya kartu identitas anak, ngurusnya di mana ya'),
    ('rendah', 'pengasuhan', 'mau tanya syarat jadi orang tua asuh gimana ya'),
    ('rendah', None, 'terima kasih bu, anak saya sudah dapat pendampingan psikolog kemarin, sudah membaik'),
    ('sedang', 'disabilitas', 'anak sy 8 th cerebral palsy, butuh kursi roda, ada bantuan gak'),
    ('sedang', 'psikososial', 'aku kesepian banget kak, gak punya temen di sekolah baru'),
    ('sedang', 'penelantaran', 'anak tetangga umur 9 sering dititip ke warung sampai malam, kotor dan kurus, ibunya kerja'),
    ('sedang', 'perilaku_menyimpang', 'anak saya 14 th ketahuan pacaran dan sering bolos'),
    ('sedang', 'stigmatisasi', 'anak sy dijauhi teman2nya karena ibunya positif HIV, padahal anak sy negatif'),
    ('sedang', 'minoritas_terisolasi', 'anak2 di kampung adat kami gak punya akta dan sekolah jauh sekali'),
    ('sedang', 'hiv_aids', 'anak asuh kami 12 th ODHA, sering lupa minum ARV'),
    ('sedang', 'kekerasan_fisik_psikis', 'anak sy diejek teman sekelas tiap hari karena gendut, sekarang gak mau sekolah'),
    ('sedang', 'layanan_lain', 'anak sy sakit leukemia butuh biaya berobat, kami tidak mampu'),
    ('rendah', 'bukan_kasus', 'p'),
    ('rendah', 'bukan_kasus', 'halo'),
]


@pytest.mark.parametrize("urgency,category,text", ROUND3_SIGNS)
def test_round3_guide_signs(urgency, category, text):
    r = triage([text])
    assert r.urgency == urgency, r.reasons
    if category is not None:
        assert r.category == category, r.reasons


# Round 2026.11.24-4: signs studied on held-out set C, written here in other words.
# (urgency, category or None, categories that must be present, categories that must be absent, text)
ROUND4_SIGNS = [
    # sexual abuse + the child alone with the abuser tonight
    ('darurat', 'kejahatan_seksual', set(), set(),
     'cucu sy 9 th sering dijamah pamannya, malam ini ibunya dinas ke luar kota jadi dia berdua saja sama pamannya'),
    # an abuser "still around" the village is not with the child tonight
    ('tinggi', 'kejahatan_seksual', set(), set(),
     'anak sy 10 th dicabuli pemuda kampung tiga minggu lalu, pelakunya masih berkeliaran di kampung'),
    # a burn from yesterday, infected and untreated
    ('darurat', 'kekerasan_fisik_psikis', set(), set(),
     'anak 6 th punggungnya disetrika bapaknya kemarin, lukanya bernanah belum diobati'),
    # a child domestic worker
    ('tinggi', 'eksploitasi', set(), set(),
     'keponakan sy 15 th kerja jd prt di Bekasi, gajinya gk dibayar 3 bulan'),
    # money asked by an extortionist is part of the sextortion, not a service request
    ('tinggi', 'pornografi', set(), {'layanan_lain'},
     'aku 14 th, fotoku telanjang disimpan orang di ig, dia minta 500rb kalau tidak disebar, aku tidak punya uang'),
    # an assistive device for a disabled child is part of the disability case
    ('sedang', 'disabilitas', set(), {'layanan_lain'},
     'anak sy 7 th tuna rungu, butuh alat bantu dengar, ada program dari dinas?'),
    # a starving toddler asking neighbours for food is neglect, not begging
    ('darurat', 'penelantaran', set(), {'eksploitasi'},
     'balita 3 th di gang sebelah dari kemarin tidak dikasih makan, tadi minta makan ke tetangga'),
    # a child held in a guest-house room
    ('darurat', None, {'kejahatan_seksual'}, {'penelantaran'},
     'anak sy 14 th dibawa kenalan dari fb, barusan telpon katanya disekap di kamar penginapan tidak boleh pulang'),
    # parents who died under the rubble are not a child still trapped
    ('tinggi', 'situasi_darurat', set(), set(),
     'relawan banjir bandang: anak 8 th, kedua orang tuanya meninggal tertimbun longsor minggu lalu, sekarang diasuh neneknya di posko'),
    # stigma over a parent's mental illness
    ('sedang', 'stigmatisasi', set(), set(),
     'anak sy 10 th diolok olok teman sekelas karena ayahnya ODGJ, jadi malas sekolah'),
    # comparing is not slamming ("dibanding" is not "dibanting")
    ('sedang', 'psikososial', set(), {'kekerasan_fisik_psikis'},
     'aku 15 th, sedih terus karena selalu dibanding bandingin sama kakak'),
]




# -- round 2026.11.25-4 (held-out set H studied): the same situations in other words -------------
ROUND_H_SIGNS = [
    # the parent's HIV, the children tested negative: stigma, not the child's HIV
    ('sedang', 'stigmatisasi', set(), {'hiv_aids'},
     'saya ibu positif HIV, anak saya negatif tapi tidak boleh ikut TK karena guru takut tertular'),
    # a parent keeping a child from adult content is asking, not reporting exposure
    ('rendah', 'informasi', set(), {'pornografi'},
     'mau tanya, aplikasi apa supaya anak tidak ketemu konten dewasa di youtube?'),
    # injuries that do not fit the story, reported by a nurse
    ('tinggi', 'kekerasan_fisik_psikis', set(), set(),
     'perawat puskesmas: balita 2 th memar di punggung dan paha, tidak sesuai penjelasan ibunya bahwa jatuh dari tangga'),
    # an adult lying on a child at night (Javanese euphemism)
    ('darurat', 'kejahatan_seksual', set(), set(),
     'ponakanku wedok 10 taun crito wingi mbengi dinindihi pakde ne, saiki pakde ne isih neng omah'),
    # the parents' unregistered marriage behind a missing birth certificate
    ('rendah', 'layanan_lain', set(), {'kejahatan_seksual'},
     'anak kami 7 thn belum punya akta kelahiran karena kami kawin siri, gimana ngurusnya?'),
    # a thesis about child marriage is a question
    ('rendah', 'informasi', set(), {'kejahatan_seksual'},
     'sy mahasiswa, skripsi sy ttg perkawinan anak di Lombok, boleh minta data jumlah laporan?'),
    # bride price taken for a 14-year-old
    ('tinggi', 'kejahatan_seksual', set(), set(),
     'adik sa umur 14 tahun, bapa su terima belis dari laki2 umur 35, dia su tinggal di rumah laki2 itu'),
    # the reporter's job at sea is not the child's
    ('sedang', 'psikososial', set(), {'eksploitasi'},
     'saya kerja di kapal jarang pulang, anak saya 9 th sejak ibunya meninggal sering mimpi buruk dan menangis terus'),
    # a child courier of drugs for an adult dealer
    ('tinggi', 'eksploitasi', {'abh'}, set(),
     'anak 15 th ditangkap polisi waktu mengantar paket sabu, dia dibayar oleh bandar'),
    # two young children whose mother has not come home (every child under 6)
    ('darurat', 'penelantaran', set(), set(),
     'di kontrakan sebelah ada 2 anak umur 2 sama 4 tahun, ibunya tidak pulang dari kemarin, anak2 nangis'),
    # English: a toddler alone at night
    ('darurat', 'penelantaran', set(), set(),
     'There is a boy, about 2 years old, walking alone by the road at night, no adult around'),
    # sea nomads without documents
    ('sedang', 'minoritas_terisolasi', set(), set(),
     'anak anak suku bajau yang tinggal di perahu tidak sekolah dan tidak punya akta'),
]


@pytest.mark.parametrize("text,kab", [
    ("sy ibu dr Balikpapan Utara, anak sy 12 th diancam orang di game online", "64.71"),   # self-introduction
    ("anak sy sakit jantung di Ruteng, dokter bilang rujuk ke Kupang atau Denpasar", "53.10"),  # both destinations
    ("Could you help? our program is in Kupang city", "53.71"),                               # "city" names the kota
    ("anak tonggoku ning tambaksari suroboyo dipukuli bapak e", "35.78"),                     # Javanese name of Surabaya
])
def test_location_round_h(text, kab):
    assert triage([text]).kabkota_kode == kab


@pytest.mark.parametrize("text,young", [
    ("ada 2 anak umur 3 sm 5 thn ditinggal", True),
    ("anak2 umur 4, 5 dan 8 tahun", False),
    ("a girl, maybe 3 years old", True),
    ("anak 3 tahun lalu pindah", False),
])
def test_young_children_listed(text, young):
    from tepsa.triage.extract import extract_age, is_young
    from tepsa.triage.rules import get_ruleset

    toks = get_ruleset().normalizer.tokens([text])
    assert is_young(toks, extract_age(toks)[0]) is young


def test_neglect_inside_a_beating_is_not_listed_but_keeps_its_urgency():
    """not_secondary_with (rules.yaml): the neglect that is part of a violence case is not listed
    next to it; the urgency its rules set still counts."""
    r = triage(["anak tetangga 4 th dipukuli bapaknya, ditinggal sendirian di rumah dari kemarin, tidak dikasih makan"])
    assert r.category == "kekerasan_fisik_psikis"
    assert "penelantaran" not in r.categories
    assert r.urgency == "darurat"
    assert any(x["rule"] == "categories.not_secondary" for x in r.reasons)
    alone = triage(["anak tetangga 4 th ditinggal sendirian di rumah dari kemarin, tidak dikasih makan"])
    assert alone.category == "penelantaran" and alone.urgency == "darurat"


def test_not_secondary_with_names_known_categories(tmp_path):
    import shutil

    from tepsa.resources import data_dir
    from tepsa.triage.rules import load_ruleset

    folder = tmp_path / "triage"
    shutil.copytree(data_dir("triage"), folder)
    rules = folder / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        "layanan_lain: [kekerasan_fisik_psikis, pengasuhan]", "layanan_lain: [kekerasan, pengasuhan]"), encoding="utf-8")
    with pytest.raises(ValueError, match="kekerasan"):
        load_ruleset(folder)


# -- round 2026.11.25-6 (held-out set I studied): the same situations in other words -------------
ROUND_I_SIGNS = [
    # the passive prefix typed apart ("d suruh", "di pukulin") and forced selling
    ('tinggi', 'eksploitasi', {'kekerasan_fisik_psikis'}, set(),
     'aq d suruh ngamen ama om aq smpe mlm, klo dpt dikit aq di pukulin'),
    # English sextortion
    ('tinggi', 'pornografi', set(), set(), 'a guy from tiktok has my nudes and says he will send them to my school'),
    # poison bought for tonight
    ('darurat', 'psikososial', set(), set(), 'aku capek, udah beli racun tikus, malam ini aku minum'),
    # a household poison drunk just now
    ('darurat', 'psikososial', set(), set(), 'adik sy 15 th barusan minum cairan pembersih lantai habis diputusin pacarnya'),
    # Bandar Lampung is a city, not a dealer
    ('tinggi', 'napza', set(), set(), 'di bandar lampung ada anak2 jalanan ngelem tiap malam di terminal'),
    # a timetable clash is not a conflict zone
    ('sedang', 'hiv_aids', set(), {'situasi_darurat'},
     'cucu saya 10 th positif HIV, jadwal kontrol bentrok dengan sekolah, minta bantuan ongkos'),
    # disaster orphans cared for by a neighbour: tinggi
    ('tinggi', 'situasi_darurat', set(), set(),
     'banjir bandang kemarin, bapak dan ibunya meninggal, anak 9 th sekarang ikut tetangga di posko'),
    # two children with no adult, fed by neighbours
    ('tinggi', 'penelantaran', set(), set(),
     'dua anak umur 7 sama 9 tahun berdua saja tinggal di rumah, tetangga yang kasih makan, ortunya merantau'),
    # racist names and hair pulled by classmates
    ('sedang', 'kekerasan_fisik_psikis', set(), set(),
     'anak sa dipanggil monyet sama teman sekelas, rambutnya ditarik tarik'),
    # a child working with the father on a plantation, out of school
    ('tinggi', 'eksploitasi', set(), {'penelantaran'},
     'anak 13 th tidak sekolah lagi, ikut ayahnya kerja di kebun sawit angkat karung pupuk tiap hari'),
    # "I never saw him hit" is a negation
    ('sedang', 'penelantaran', set(), {'kekerasan_fisik_psikis'},
     'anak tetangga umur 8 tidak sekolah, bajunya kotor, tidak pernah aku liat dipukul, cuma tidak terurus'),
    # a laughing prank with ghosts
    ('rendah', 'bukan_kasus', set(), set(), 'hahaha adek gw diculik kuntilanak hahaha'),
    # English loneliness
    ('sedang', 'psikososial', set(), set(), 'my parents fight all the time, i feel so alone and cry every night'),
]


@pytest.mark.parametrize("text,words", [
    ("aq d suruh jualan", ["aku", "disuruh", "jualan"]),
    ("di pukulin bapak", ["dipukulin", "bapak"]),
    ("tinggal di rumah", ["tinggal", "di", "rumah"]),          # a place stays a place
    ("tidur di bawah jembatan", ["tidur", "di", "bawah", "jembatan"]),
    ("d banjarmasin tengah", ["d", "banjarmasin", "tengah"]),
])
def test_passive_prefix_typed_apart_is_joined(text, words):
    from tepsa.triage.rules import get_ruleset

    assert get_ruleset().normalizer.tokens([text]).words == words


# -- round 2026.11.25-7 (held-out sets J and K studied): the same situations in other words -------
ROUND_JK_SIGNS = [
    # forced sex at a boarding room two nights ago, body still hurting: the 72-hour rule
    ('darurat', 'kejahatan_seksual', set(), set(),
     'kak aku 17 th, kemarin malam di kosan temen aku dipaksa gituan sama dia, badanku masih sakit'),
    # a child taken to work abroad, phone taken, sailing tomorrow
    ('darurat', 'perdagangan', set(), set(),
     'adik sa umur 16 dibawa orang mau kerja di Malaysia, sekarang di penampungan, hp su diambil, besok naik kapal'),
    # an NGO's note: girls held by an agent, leaving tonight
    ('darurat', 'perdagangan', set(), set(),
     'Pelapor LSM: 2 anak perempuan 15 th ditampung di rumah dekat pelabuhan, diberangkatkan malam ini, dokumen dipegang agen'),
    # a farewell post with cuts that bleed a lot
    ('darurat', 'psikososial', set(), set(),
     'temen aku 14 th barusan posting selamat tinggal semua sama foto tangannya disilet, darahnya banyak'),
    # a drunk father chasing the child with a machete now (Sundanese)
    ('darurat', 'kekerasan_fisik_psikis', set(), set(),
     'tolong bapana keur mabok ayeuna ngudag budakna make bedog, budakna umur 9 nyumput di imah abi'),
    # ...but a threat with a blade weeks ago, father at work now, is not tonight
    ('tinggi', 'kekerasan_fisik_psikis', set(), set(),
     'bapa sa kalau mabuk ancam sa pakai parang, dua minggu lalu, sekarang bapa lagi kerja di luar kota'),
    # the school's "just joking" is not a prank call
    ('tinggi', 'kekerasan_fisik_psikis', set(), {'bukan_kasus'},
     'anak sy 12 th dipukulin kakak kelas tiap hari, kata gurunya cuma becanda'),
    # a child's goodbye with a rope ready tonight
    ('darurat', 'psikososial', set(), set(), 'aku udah siapin tali, malam ini mau udahan aja, jangan cari aku'),
    # a boy accused of theft and summoned by the police (Manado)
    ('tinggi', 'abh', set(), set(), 'kita pe anak 15 taong dapa tuduh ambe hp, polisi pangge mo periksa besok'),
    # Madurese: a 14-year-old married off to an adult
    ('tinggi', 'kejahatan_seksual', set(), set(), 'nak-kanak bine umur 14 dikabin siri sama oreng umur 40'),
    # Javanese krama: two children living alone, fed by neighbours
    ('tinggi', 'penelantaran', set(), set(),
     'bocah kalih umur 7 lan 9 taun manggen piyambakan, tiyang sepuhe kerja ing Batam, tetangga ingkang paring maem'),
    # Minang: a Quran teacher touching a child, a month ago
    ('tinggi', 'kejahatan_seksual', set(), set(),
     'anak ambo umua 8 taun, guru mangaji acok mamacik-macik badannyo, jan bacarito ka urang katonyo'),
]


# -- round 2026.11.25-8 (held-out sets L and M studied): the same situations in other words -------
ROUND_LM_SIGNS = [
    # pills kept to swallow all tonight
    ('darurat', 'psikososial', set(), set(),
     'aku udah ga kuat, obat tidur ibu udah aku simpen, nanti malam aku minum semua'),
    # ...but a teenager found keeping pills to get high is drug use, not a suicide plan
    ('tinggi', 'napza', set(), {'psikososial'}, 'anak sy 15 th ketahuan nyimpen pil tramadol di tas, katanya buat fly'),
    # old healed fractures and a child who freezes when the father comes
    ('tinggi', 'kekerasan_fisik_psikis', set(), set(),
     'perawat RS: anak 6 th dirawat karena patah tangan, rontgen ada patah lama di rusuk, anak ketakutan setiap ayahnya datang'),
    # an adult asking a girl for pictures in underwear
    ('tinggi', 'pornografi', set(), set(),
     'mau tanya, anak sy 12 th diminta om2 di game kirim foto pakai pakaian dalam, sudah terkirim 2'),
    # paid undressed video calls, now threatened
    ('tinggi', 'pornografi', set(), set(), 'aku 15 th dibayar om2 buat vc tanpa baju, sekarang dia ngancem nyebarin'),
    # two children living alone with no adult
    ('tinggi', 'penelantaran', set(), set(),
     'kakak adik umur 8 dan 6 tahun tinggal berdua di rumah sejak kakeknya meninggal, makan dibantu tetangga'),
    # a welding shop from morning to night
    ('tinggi', 'eksploitasi', set(), set(), 'ponakan sy 14 th putus sekolah kerja di bengkel las dari jam 7 pagi sampai jam 10 malam'),
    # a remote island without teachers
    ('sedang', 'minoritas_terisolasi', set(), set(),
     'di pulau kami tidak ada guru sudah 5 bulan, pustu kosong, kapal cuma 2 minggu sekali, anak2 tidak sekolah'),
    # a children's home that has to close
    ('sedang', 'pengasuhan', set(), set(), 'panti asuhan kami harus tutup bulan depan, ada 20 anak asuh, mohon arahan'),
]


# -- round 2026.11.25-9 (held-out sets N and O studied): the same situations in other words -------
ROUND_NO_SIGNS = [
    # a drunk father taking a toddler away by force right now
    ('darurat', 'kekerasan_fisik_psikis', set(), set(),
     'tolong, bapaknya mabuk habis mukul anak 2 th, barusan dia bawa paksa anaknya naik motor, anaknya nangis'),
    # sextortion forcing a meeting at a hotel tonight
    ('darurat', 'pornografi', set(), set(),
     'ada cowok punya video telanjang adikku 14 th, ngancem kalau malam ini ga datang ke hotel videonya disebar'),
    # an intimate video spread by an ex
    ('tinggi', 'pornografi', set(), set(), 'video pribadi anak sy 15 th disebar mantannya di grup wa sekolah'),
    # a boy kept on a fishing boat, phone taken by them (Manado)
    ('darurat', 'eksploitasi', set(), set(),
     'kita pe anak 15 taong kerja di kapal ikan, so sebulan nyanda boleh turun, hp dorang ambe'),
    # Acehnese: a girl promised to an adult next month
    ('tinggi', 'kejahatan_seksual', set(), set(), 'lon aneuk inong 14 thon, ayah lon geutuan lon ngon ureung umu 40 thon'),
    # a widowed mother leaving to work abroad, wants the children placed
    ('sedang', 'pengasuhan', set(), set(),
     'sy mau kerja ke Malaysia bulan depan, anak2 mau sy titipkan di panti, neneknya sudah tidak bisa ngurus'),
    # a last message from a rooftop
    ('darurat', 'psikososial', set(), set(), 'aku lagi di atap gedung sekolah, ini pesan terakhir aku, makasih semuanya'),
    # a boy on trial, reporting to the police weekly
    ('tinggi', 'abh', set(), set(), 'anak sy 16 th sedang proses sidang kasus pencurian, wajib lapor tiap minggu, butuh pendamping'),
]


# -- round 2026.11.25-10 (held-out sets P and Q studied): the same situations in other words ------
ROUND_PQ_SIGNS = [
    # a 9-year-old sleeping alone under a flyover, eating leftovers
    ('tinggi', 'penelantaran', set(), set(),
     'ada anak 9 th tidur sendirian di kolong flyover tiap malam, makan dari sisa orang, ibunya sudah meninggal'),
    # Javanese: a boy living alone in a hut, fed by neighbours
    ('tinggi', 'penelantaran', set(), set(), 'bocah umur pitung taun urip dewe neng gubuk, mangan diwenehi tonggo'),
    # the other parent keeps the child against the court's decision
    ('sedang', 'pengasuhan', set(), set(),
     'hak asuh anak sy 6 th ikut saya, tapi mantan istri tidak mau mengembalikan sejak liburan, anak baik-baik saja'),
    # Papuan: both parents died in a flood
    ('tinggi', 'situasi_darurat', set(), set(),
     'anak 8 tahun, mama deng bapa dua-dua meninggal waktu banjir bandang, sekarang tinggal sama tetangga'),
    # girls taken with a promise of free school, at the port, ship leaves tonight
    ('darurat', 'perdagangan', set(), set(),
     'adik sa 13 th dibawa orang yayasan katanya disekolahkan gratis, sekarang su di pelabuhan, kapal berangkat jam 9 malam'),
    # pills gathered, a plan for when everyone sleeps
    ('darurat', 'psikososial', set(), set(),
     'aku cape jadi beban, obat mama udah aku kumpulin, rencananya pas semua orang tidur aku minum semua'),
]


# every round's cases in other words: urgency, primary category (None: any), categories that must
# and must not be listed
@pytest.mark.parametrize("urgency,category,present,absent,text",
                         ROUND4_SIGNS + ROUND_H_SIGNS + ROUND_I_SIGNS + ROUND_JK_SIGNS + ROUND_LM_SIGNS
                         + ROUND_NO_SIGNS + ROUND_PQ_SIGNS)
def test_round_signs(urgency, category, present, absent, text):
    r = triage([text])
    assert r.urgency == urgency, r.reasons
    if category is not None:
        assert r.category == category, r.reasons
    assert present <= set(r.categories), r.reasons
    assert not (absent & set(r.categories)), r.reasons
