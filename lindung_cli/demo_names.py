"""What demo and bench workers are called and do, and how regency spreadsheets write them: the
names, occupations and CSV header styles every generator of people draws from."""

from __future__ import annotations

# The programme default occupations (DOMAIN.md); the demo programmes keep the default list.
OCCUPATIONS_SAWIT = ("pekerja sawit",) * 6 + ("petani", "buruh harian lepas", "sopir", "pedagang keliling")
OCCUPATIONS_OTHER = (
    "petani", "petani", "petani", "nelayan", "nelayan", "pedagang kaki lima", "pedagang keliling", "sopir",
    "tukang becak", "juru parkir", "pemulung", "buruh harian lepas", "pekerja sosial keagamaan", "lainnya",
)  # fmt: skip
MEN = (
    "Rudolf", "Maruli", "Hotman", "Poltak", "Sahat", "Bonar", "Lamhot", "Jonni", "Darwin", "Togar",
    "Ahmad", "Muhammad", "Rizki", "Budi", "Agus", "Hendra", "Fauzi", "Yosafat", "Faösi", "Ama",
    "Ridwan", "Syahrul", "Zulkifli", "Irwan", "Parlindungan", "Binsar", "Martua", "Sudirman",
)  # fmt: skip
WOMEN = (
    "Rosmawati", "Tiurma", "Rugun", "Rosta", "Masniari", "Lasma", "Siti", "Nurhayati", "Dewi", "Sri",
    "Ratna", "Sarmauli", "Hotnida", "Yuliana", "Ina", "Fitri", "Nurjannah", "Erna", "Dameria", "Juliana",
)  # fmt: skip
FAMILY = (
    "Sinaga", "Simbolon", "Sitanggang", "Naibaho", "Sagala", "Manik", "Malau", "Gultom", "Sidabutar",
    "Situmorang", "Nasution", "Lubis", "Harahap", "Siregar", "Hasibuan", "Pohan", "Tanjung", "Ginting",
    "Tarigan", "Sembiring", "Purba", "Saragih", "Damanik", "Telaumbanua", "Zebua", "Gulö", "Harefa",
    "Hutagalung", "Panjaitan", "Pardede", "Tambunan", "Sihombing", "Batubara", "Daulay", "",
)  # fmt: skip

# Header styles of regency spreadsheets exported to CSV: (separator, headers, date format, sex words).
HEADER_STYLES = (
    (";", ("NIK", "Nama", "Tanggal Lahir", "Jenis Kelamin", "Pekerjaan", "Kecamatan", "Desa/Kelurahan",
           "Alamat", "No. HP", "Sektor", "Desil"), "%d-%m-%Y", ("L", "P")),
    (",", ("No. KTP", "Nama Lengkap", "Tgl Lahir", "L/P", "Jenis Pekerjaan", "Kec", "Kel/Desa",
           "Alamat Lengkap", "No HP", "Sektor (sawit/non-sawit)", "Desil P3KE"), "%d/%m/%Y",
     ("Laki-laki", "Perempuan")),
    (",", ("nik", "nama", "tanggal lahir", "jenis kelamin", "pekerjaan", "kecamatan", "desa", "alamat",
           "hp", "sektor", "desil"), "%Y-%m-%d", ("L", "P")),
)  # fmt: skip
