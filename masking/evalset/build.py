"""Build the labelled evaluation set of clerks' remarks: ``masking/evalset/remarks.jsonl``.

Deterministic (seeded). Each text is composed piece by piece, so the character offsets of every
personal value are known exactly. One JSON object per line::

    {"id": 7, "kind": "benefit", "split": "train",
     "text": "受款人王小明(A123456789)來電0912-345-678，...",
     "spans": [{"start": 3, "end": 6, "entity": "PERSON"}, ...],
     "known_names": ["王小明"]}

``known_names`` are the names of the record's own person (the register name a caller would pass
to :func:`masking.recognizers.analyze`). 20% of the records (a seeded shuffle) carry
``"split": "holdout"``.

Run: ``.venv/bin/python -m masking.evalset.build [--n 600] [--seed 20241130] [--out PATH]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from kernel.twid import fullwidth, make_business_id, make_person_id, roc_date

OUT = Path(__file__).with_name("remarks.jsonl")
SEED = 20241130
N = 600
HOLDOUT = 0.2


class Composer:
    """Builds one text; :meth:`pii` records the span of a personal value while appending it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[dict[str, object]] = []

    def add(self, *texts: str) -> Composer:
        """Append plain text."""
        for t in texts:
            self.parts.append(t)
            self.length += len(t)
        return self

    def pii(self, entity: str, value: str) -> Composer:
        """Append a personal value and record its span."""
        self.spans.append({"start": self.length, "end": self.length + len(value), "entity": entity})
        return self.add(value)

    @property
    def text(self) -> str:
        """The text so far."""
        return "".join(self.parts)


# ---------------------------------------------------------------------------------------------
# Value generators.

SURNAMES_W = (
    "陳" * 11
    + "林" * 8
    + "黃" * 6
    + "張" * 5
    + "李" * 5
    + "王" * 4
    + "吳" * 4
    + "劉" * 3
    + "蔡" * 3
    + "楊" * 3
    + "許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高潘簡朱鍾游彭詹胡施沈余盧梁"
    "趙顏柯翁魏孫戴范方宋鄧杜傅侯曹薛丁卓阮馬董溫唐藍石蔣古紀姚連馮歐程湯田康姜白汪鄒尤巫鐘黎涂"
)
COMPOUND = ("歐陽", "司馬", "張簡", "范姜")
_GIVEN_TEXT = (
    "志明 俊傑 家豪 建宏 冠廷 承恩 宗翰 柏翰 彥廷 宇軒 子涵 怡君 淑芬 美玲 雅婷 佳穎 欣怡 詩涵 "
    "思妤 惠美 秀英 麗華 玉蘭 春嬌 金水 阿土 文雄 國華 世昌 正雄 榮輝 德福 振宏 信宏 志豪 育誠 "
    "嘉玲 靜怡 淑惠 秋月 麗卿 美華 秀琴 月娥 素貞 明德 嘉銘 一帆 子軒 品妍 宥廷 語彤 芷晴 "
    "明 華 勇 偉 傑 芳 玲 強 慧 敏 安 凱 瑜 婷"
)
GIVEN = tuple(_GIVEN_TEXT.split())


def name(rng: random.Random) -> str:
    """A Taiwanese name: surname (sometimes compound) + 1 or 2 characters."""
    surname = rng.choice(COMPOUND) if rng.random() < 0.06 else rng.choice(SURNAMES_W)
    return surname + rng.choice(GIVEN)


def person_id(rng: random.Random) -> str:
    """A valid personal identifier in one of the surface forms clerks type."""
    kind = rng.choices(("national", "resident_new", "resident_old"), (70, 15, 15))[0]
    pid = make_person_id(rng, kind)
    form = rng.choices(
        ("plain", "lower", "fullwidth", "hyphen", "space", "fw_lower", "split"),
        (50, 8, 16, 10, 6, 5, 5),
    )[0]
    if form == "lower":
        return pid.lower()
    if form == "fullwidth":
        return fullwidth(pid)
    if form == "hyphen":
        return f"{pid[:4]}-{pid[4:7]}-{pid[7:]}"
    if form == "space":
        return f"{pid[0]} {pid[1:]}"
    if form == "fw_lower":
        return fullwidth(pid.lower())
    if form == "split":
        return f"{pid[:6]} {pid[6:]}"
    return pid


def mobile(rng: random.Random) -> str:
    """A mobile number in one of its common forms."""
    d = "9" + "".join(rng.choice("0123456789") for _ in range(8))
    a, b, c = d[:3], d[3:6], d[6:]
    form = rng.choice(
        (
            f"0{a}-{b}-{c}", f"0{a}{b}{c}", f"0{a} {b} {c}", f"0{a}-{b}{c}", f"+886-{a}-{b}-{c}",
            f"+886{a}{b}{c}", f"+886 {a} {b} {c}", f"(0{a}){b}-{c}", f"0{a}.{b}.{c}",
            f"+886-{a}{b}{c}",
        )
    )  # fmt: skip
    return fullwidth(form) if rng.random() < 0.12 else form


AREAS = (("02", 8), ("03", 7), ("037", 6), ("04", 8), ("04", 7), ("049", 7), ("05", 7),
         ("06", 7), ("07", 7), ("08", 7), ("089", 6), ("082", 6))  # fmt: skip


def landline(rng: random.Random) -> str:
    """A landline number: area code and subscriber number in one of the common forms."""
    area, n = rng.choice(AREAS)
    sub = rng.choice("2345678") + "".join(rng.choice("0123456789") for _ in range(n - 1))
    split = n - 4
    s1 = f"{sub[:split]}-{sub[split:]}"
    form = rng.choice(
        (
            f"({area}){s1}", f"{area}-{sub}", f"{area}-{s1}", f"({area}){sub}",
            f"+886-{area[1:]}-{s1}", f"{area} {sub[:split]} {sub[split:]}", f"({area}) {s1}",
        )
    )  # fmt: skip
    return fullwidth(form) if rng.random() < 0.1 else form


def phone(rng: random.Random) -> str:
    """A mobile or landline number."""
    return mobile(rng) if rng.random() < 0.6 else landline(rng)


def digits(rng: random.Random, n: int) -> str:
    """``n`` random digits."""
    return "".join(rng.choice("0123456789") for _ in range(n))


def postal_account(rng: random.Random) -> str:
    """A post office account: 7-digit office number and 7-digit account number."""
    office, acct = "0" + digits(rng, 6), digits(rng, 7)
    return rng.choice((f"{office}-{acct}", f"{office}{acct}", f"{office}-{acct}"))


def bank_account(rng: random.Random) -> str:
    """A bank account number: 10 to 16 digits, sometimes grouped with hyphens."""
    n = rng.choice((10, 11, 12, 12, 13, 14, 14, 16))
    d = digits(rng, n)
    if rng.random() < 0.35:
        cut = sorted(rng.sample(range(2, n - 2), 2))
        if cut[1] - cut[0] >= 2:
            d = f"{d[: cut[0]]}-{d[cut[0] : cut[1]]}-{d[cut[1] :]}"
    return fullwidth(d) if rng.random() < 0.05 else d


BANKS = ("臺灣銀行", "台灣銀行", "土地銀行", "合作金庫", "第一銀行", "華南銀行", "彰化銀行",
         "國泰世華銀行", "中國信託", "玉山銀行", "台新銀行", "兆豐銀行",
         "台北富邦銀行")  # fmt: skip

DOMAINS = ("gmail.com", "yahoo.com.tw", "hotmail.com", "ms1.hinet.net", "outlook.com",
           "mail.bli.gov.tw", "ntu.edu.tw", "pchome.com.tw")  # fmt: skip
LOCAL = ("wang", "lin", "chen", "mei", "ming", "huang", "chang", "jlee", "tsai", "yang.ch",
         "amy", "kevin", "hsu_1975", "cwliu", "sunny.lai", "tw.kuo")  # fmt: skip


def email(rng: random.Random) -> str:
    """An e-mail address (sometimes typed full-width)."""
    local = rng.choice(LOCAL) + (str(rng.randrange(1950, 2010)) if rng.random() < 0.5 else "")
    e = f"{local}@{rng.choice(DOMAINS)}"
    return fullwidth(e) if rng.random() < 0.08 else e


PLACES = {
    "北市": ("中正區", "大安區", "信義區", "士林區", "內湖區", "萬華區", "文山區", "北投區"),
    "新北市": ("板橋區", "三重區", "中和區", "新莊區", "三峽區", "淡水區", "汐止區", "土城區"),
    "桃園市": ("中壢區", "桃園區", "平鎮區", "龍潭區", "楊梅區"),
    "中市": ("西屯區", "北屯區", "豐原區", "大里區", "太平區", "沙鹿區"),
    "南市": ("東區", "永康區", "安平區", "新營區", "麻豆區", "新市區"),
    "高雄市": ("前鎮區", "三民區", "鳳山區", "左營區", "岡山區", "鹽埕區", "那瑪夏區"),
    "基隆市": ("仁愛區", "七堵區"),
    "新竹市": ("東區", "北區"),
    "新竹縣": ("竹北市", "湖口鄉", "竹東鎮"),
    "苗栗縣": ("苗栗市", "頭份市", "三義鄉"),
    "彰化縣": ("彰化市", "員林市", "鹿港鎮", "和美鎮"),
    "南投縣": ("南投市", "埔里鎮", "草屯鎮", "魚池鄉"),
    "雲林縣": ("斗六市", "虎尾鎮", "北港鎮"),
    "嘉義縣": ("太保市", "民雄鄉", "朴子市"),
    "屏東縣": ("屏東市", "潮州鎮", "東港鎮", "恆春鎮"),
    "宜蘭縣": ("宜蘭市", "羅東鎮", "礁溪鄉"),
    "花蓮縣": ("花蓮市", "吉安鄉", "玉里鎮"),
    "東縣": ("臺東市", "成功鎮", "池上鄉"),
    "澎湖縣": ("馬公市",),
    "金門縣": ("金城鎮", "金湖鎮"),
}
ROADS = ("中山路", "中正路", "民生東路", "忠孝東路", "信義路", "和平西路", "復興南路", "光復路",
         "文化路", "建國北路", "中華路", "自由路", "民族路", "成功路", "大同街", "永和街",
         "中興街", "仁愛路", "博愛路", "三民路", "林森北路", "大雅路", "經國路", "五福一路",
         "中山北路", "公園路", "新生南路", "長春路", "四維路", "重慶南路", "凱旋三路")  # fmt: skip
VILLAGES = ("大城里", "北平里", "五寮里", "福興村", "中正里", "和平里", "新興村", "頂寮里")
ZH_NUM = "一二三四五六七八九十"


def _county(key: str, rng: random.Random) -> str:
    if key in ("北市", "中市", "南市", "東縣"):
        return rng.choice("臺台") + key
    return key


def address(rng: random.Random) -> str:
    """An address in one of the forms clerks write (台/臺, full-width digits, rural)."""
    key = rng.choice(tuple(PLACES))
    county, district = _county(key, rng), rng.choice(PLACES[key])
    form = rng.choices(("urban", "rural", "no_county"), (70, 15, 15))[0]
    if form == "rural":
        addr = f"{county}{district}{rng.choice(VILLAGES)}{rng.randrange(1, 30)}鄰"
        if rng.random() < 0.5:
            addr += rng.choice(ROADS)
        addr += f"{rng.randrange(1, 300)}號"
    else:
        addr = "" if form == "no_county" else county
        addr += district if (form != "no_county" or rng.random() < 0.6) else ""
        addr += rng.choice(ROADS)
        if rng.random() < 0.4:
            addr += f"{rng.choice(ZH_NUM[:5])}段"
        if rng.random() < 0.35:
            addr += f"{rng.randrange(1, 400)}巷"
            if rng.random() < 0.4:
                addr += f"{rng.randrange(1, 40)}弄"
        addr += f"{rng.randrange(1, 500)}"
        if rng.random() < 0.1:
            addr += f"之{rng.randrange(1, 9)}"
        addr += "號"
        r = rng.random()
        if r < 0.35:
            addr += f"{rng.randrange(2, 25)}樓"
        elif r < 0.5:
            addr += f"{rng.choice(ZH_NUM)}樓"
        elif r < 0.55:
            addr += f"{rng.randrange(2, 15)}樓之{rng.randrange(1, 9)}"
    if rng.random() < 0.2:
        addr = fullwidth(addr)
    return addr


def roc(rng: random.Random) -> datetime.date:
    """A random date between 1940 and 2024."""
    return datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(31000))


def roc_text(rng: random.Random) -> str:
    """A ROC date as clerks write it: ``113年5月1日``, ``1130501``, ``113.05.01``, ``113/5/1``."""
    d = datetime.date(2019, 1, 1) + datetime.timedelta(days=rng.randrange(2150))
    y = d.year - 1911
    return rng.choice(
        (f"{y}年{d.month}月{d.day}日", roc_date(d), f"{y}.{d.month:02d}.{d.day:02d}",
         f"{y}/{d.month}/{d.day}", f"民國{y}年{d.month}月{d.day}日")
    )  # fmt: skip


def amount(rng: random.Random) -> str:
    """An amount: ``12,345元``, ``NT$45,800``, ``新臺幣3,000元``."""
    v = rng.choice((rng.randrange(100, 10000), rng.randrange(10000, 2000000)))
    return rng.choice((f"{v:,}元", f"NT${v:,}", f"新臺幣{v:,}元", f"{v}元", f"{v:,}"))


def case_no(rng: random.Random) -> str:
    """A case or document number (not personal data)."""
    return rng.choice(
        (
            f"案號{rng.randrange(108, 114)}{digits(rng, 8)}",
            f"勞保{rng.choice('123')}字第{rng.randrange(108, 114)}{digits(rng, 7)}號",
            f"收文號{rng.randrange(108, 114)}{digits(rng, 7)}",
            f"受理編號{rng.choice('ABLP')}{rng.randrange(108, 114)}{digits(rng, 6)}",
            f"保險證號{digits(rng, 8)}",
            f"批號{rng.randrange(108, 114)}{digits(rng, 4)}-{digits(rng, 3)}",
        )
    )


# ---------------------------------------------------------------------------------------------
# Templates. Each gets the random source and a composer, returns the record's known names.

Template = Callable[[random.Random, Composer], list[str]]
P, ID, T, E, B, U, A = (
    "PERSON", "TW_NATIONAL_ID", "TW_PHONE", "EMAIL_ADDRESS", "TW_BANK_ACCOUNT", "TW_BUSINESS_ID",
    "TW_ADDRESS",
)  # fmt: skip
SEP = ("，", "。", "；", " ", "、")


def t_spec_example(rng: random.Random, c: Composer) -> list[str]:
    """The interface specification's example and its variations."""
    n = name(rng)
    c.add(rng.choice(("受款人", "申請人", "被保險人"))).pii(P, n)
    c.add(rng.choice(("(", "（", "", " "))).pii(ID, person_id(rng)).add(rng.choice((")", "）", "")))
    # (an ID glued to a phone number, ``A1234567890912345678``, is ambiguous even to a reader)
    c.add(rng.choice(("來電", "手機", "電話", "來電表示", " "))).pii(T, phone(rng))
    c.add(rng.choice(SEP), rng.choice(("改匯郵局帳號", "改匯郵局", "郵局帳號改為", "改匯存簿")))
    c.pii(B, postal_account(rng))
    return []


def t_callback(rng: random.Random, c: Composer) -> list[str]:
    """A caller asking about a payment, with a title after the name."""
    n = name(rng)
    c.pii(P, n).add(rng.choice(("先生", "小姐", "女士")))
    c.add(rng.choice(("來電詢問給付進度", "詢問", "來電查詢", "反映未收到"))).add(roc_text(rng))
    c.add(rng.choice(("給付", "之款項", "核定金額")), rng.choice(SEP))
    c.add(rng.choice(("請回電", "回電", "聯絡電話", "電話：", "手機"))).pii(T, phone(rng))
    return []


def t_change_account(rng: random.Random, c: Composer) -> list[str]:
    """A request to pay into another bank account."""
    n = name(rng)
    c.add(rng.choice(("申請人", "受款人", "領款人"))).pii(P, n)
    c.add("於", roc_text(rng), rng.choice(("申請改匯", "來函申請變更帳戶", "臨櫃申請改匯")))
    c.add(rng.choice(SEP), rng.choice(("新帳號", "匯入", "改匯至", "新戶頭")))
    c.add(rng.choice(BANKS), rng.choice(("帳號", "", " 帳號：", "分行帳號")))
    c.pii(B, bank_account(rng))
    return []


def t_survivor(rng: random.Random, c: Composer) -> list[str]:
    """A death and a survivor's claim."""
    n1, n2 = name(rng), name(rng)
    c.add("被保險人").pii(P, n1).add("已於", roc_text(rng), "死亡", rng.choice(SEP))
    c.add(rng.choice(("家屬", "配偶", "長子", "長女", "遺屬"))).pii(P, n2)
    c.add(rng.choice(("（", "(", "，身分證", " ")), "").pii(ID, person_id(rng))
    c.add(rng.choice(("）", ")", "")), "申請遺屬年金", rng.choice(SEP), "聯絡電話")
    c.pii(T, phone(rng))
    return [n1]


def t_returned_mail(rng: random.Random, c: Composer) -> list[str]:
    """Returned mail: a new address."""
    c.add(rng.choice(("退件：", "郵件退回，", "通知書退回，", "")))
    c.add(rng.choice(("地址不詳，改寄", "查無此人，改寄", "通訊地址變更為", "住址改為")))
    c.pii(A, address(rng))
    if rng.random() < 0.6:
        c.add(rng.choice(SEP), rng.choice(("電話", "市話", "聯絡電話"))).pii(T, landline(rng))
    return []


def t_agent(rng: random.Random, c: Composer) -> list[str]:
    """An agent applying on someone's behalf, with an e-mail address."""
    n = name(rng)
    c.add("代理人").pii(P, n).add(rng.choice(("小姐", "先生", "")), "代為申請", rng.choice(SEP))
    c.add(rng.choice(("身分證", "身分證號", "ID:", "統一證號"))).pii(ID, person_id(rng))
    c.add(rng.choice(SEP), rng.choice(("e-mail：", "電子信箱", "Email: ", "信箱")))
    c.pii(E, email(rng))
    return []


def t_account_closed(rng: random.Random, c: Composer) -> list[str]:
    """A closed account and a new one."""
    n = name(rng)
    c.pii(P, n).add(rng.choice(("女士", "先生", "小姐")), "表示", rng.choice(("帳戶", "原帳號")))
    c.pii(B, bank_account(rng)).add("已結清", rng.choice(SEP), "請改匯")
    c.add(rng.choice(BANKS), "帳號").pii(B, bank_account(rng))
    return []


def t_employer(rng: random.Random, c: Composer) -> list[str]:
    """An employer correcting an insured salary."""
    n = name(rng)
    firm = rng.choice(("大同", "和泰", "新光", "永豐", "宏達", "金寶", "台塑", "中鋼"))
    c.add(rng.choice(("投保單位", "雇主", "")), firm)
    c.add(rng.choice(("股份有限公司", "有限公司", "公司")))
    c.add(rng.choice(("（統編", "(統一編號", " 統編：", "統編"))).pii(U, make_business_id(rng))
    c.add(rng.choice(("）", ")", "")), "來函更正").pii(P, n).add("之投保薪資為", amount(rng))
    return [n]


def t_contact(rng: random.Random, c: Composer) -> list[str]:
    """A contact line."""
    c.add(rng.choice(("聯絡人：", "聯絡人", "連絡人 "))).pii(P, name(rng))
    c.add(rng.choice(SEP), rng.choice(("手機", "電話", "行動電話", "TEL:"))).pii(T, phone(rng))
    if rng.random() < 0.6:
        c.add(rng.choice(SEP), rng.choice(("信箱", "email:", "E-mail "))).pii(E, email(rng))
    return []


def t_spouse_address(rng: random.Random, c: Composer) -> list[str]:
    """A spouse and an address."""
    c.add(rng.choice(("配偶", "配偶：", "同居人"))).pii(P, name(rng))
    c.add(rng.choice(("（身分證號", "(", "，身分證字號"))).pii(ID, person_id(rng))
    c.add(rng.choice(("）", ")", "，")), rng.choice(("住", "戶籍地址", "居住於", "現住")))
    c.pii(A, address(rng))
    return []


def t_glued(rng: random.Random, c: Composer) -> list[str]:
    """Values glued to each other and to Chinese text, no separators at all."""
    n = name(rng)
    if rng.random() < 0.5:
        c.add("受款人").pii(P, n).pii(ID, person_id(rng)).add("來電").pii(T, mobile(rng))
    else:
        c.pii(ID, person_id(rng)).pii(P, n).add("本人親至櫃台辦理", rng.choice(SEP), "手機")
        c.pii(T, mobile(rng))
    c.add("改匯郵局").pii(B, postal_account(rng))
    return []


def t_known_name(rng: random.Random, c: Composer) -> list[str]:
    """A record's own name mentioned without any cue (only known_names can find it)."""
    n = name(rng)
    form = rng.randrange(4)
    if form == 0:
        c.pii(P, n).add("於", roc_text(rng), "死亡，停止給付，溢領", amount(rng), "待追繳")
    elif form == 1:
        c.add("通知").pii(P, n).add("補件，", roc_text(rng), "前未補正者逕予退件")
    elif form == 2:
        c.add("已電話告知").pii(P, n).add("核定結果")
    else:
        c.pii(P, n).add("的給付暫停，原因：", rng.choice(("戶籍遷出", "入監服刑", "出境逾二年")))
    return [n]


def t_extension(rng: random.Random, c: Composer) -> list[str]:
    """A landline with an extension (the extension is not part of the number)."""
    c.add(rng.choice(("承辦人", "經辦人員"))).pii(P, name(rng)).add("，電話").pii(T, landline(rng))
    c.add(rng.choice(("轉", "#", "分機")), str(rng.randrange(100, 9999)))
    return []


def t_refund(rng: random.Random, c: Composer) -> list[str]:
    """A returned payment."""
    n = name(rng)
    c.add(roc_text(rng), "匯款退回，原因：帳號").pii(B, bank_account(rng))
    c.add("錯誤", rng.choice(SEP), "已通知").pii(P, n).add(rng.choice(("先生", "小姐", "女士")))
    c.add("，電話").pii(T, phone(rng))
    return []


def t_household_move(rng: random.Random, c: Composer) -> list[str]:
    """A household-registry move-in."""
    n = name(rng)
    c.add(rng.choice(("戶長", "戶長：", "申請人"))).pii(P, n)
    c.add("於", roc_text(rng), "由").pii(A, address(rng)).add("遷入").pii(A, address(rng))
    return [n]


def t_household_family(rng: random.Random, c: Composer) -> list[str]:
    """A birth registration with the parents."""
    n1, n2, n3 = name(rng), name(rng), name(rng)
    c.add("出生登記：").pii(P, n3).add("，出生日期", roc_date(roc(rng)), "，父").pii(P, n1)
    c.add(rng.choice(("，母", "、母"))).pii(P, n2).add("，戶籍")
    c.pii(A, address(rng))
    return [n3]


def t_household_fix(rng: random.Random, c: Composer) -> list[str]:
    """A correction of a registered value."""
    n = name(rng)
    c.add("更正").pii(P, n).add("之出生日期", roc_date(roc(rng)), "為", roc_date(roc(rng)))
    c.add(rng.choice(SEP), "身分證統一編號").pii(ID, person_id(rng))
    return [n]


def t_fullwidth_mix(rng: random.Random, c: Composer) -> list[str]:
    """Everything typed full-width."""
    c.add("被保險人").pii(P, name(rng)).add("，身分證").pii(ID, fullwidth(make_person_id(rng)))
    c.add("，行動電話").pii(T, fullwidth(mobile(rng))).add("，地址").pii(A, fullwidth(address(rng)))
    return []


def t_english(rng: random.Random, c: Composer) -> list[str]:
    """A foreign resident: resident certificate number and e-mail."""
    kind = rng.choice(("resident_new", "resident_old"))
    c.add("外籍配偶").pii(P, name(rng)).add("，居留證號").pii(ID, make_person_id(rng, kind))
    c.add("，email ").pii(E, email(rng)).add("，請以英文通知")
    return []


POSITIVE: tuple[Template, ...] = (
    t_spec_example, t_callback, t_change_account, t_survivor, t_returned_mail, t_agent,
    t_account_closed, t_employer, t_contact, t_spouse_address, t_glued, t_known_name,
    t_extension, t_refund, t_household_move, t_household_family, t_household_fix,
    t_fullwidth_mix, t_english,
)  # fmt: skip


def t_negative(rng: random.Random, c: Composer) -> list[str]:
    """A remark without personal data: dates, amounts, case numbers, surnames with titles."""
    r, ch = rng.randrange, rng.choice
    pieces: list[Callable[[], str]] = [
        lambda: f"{roc_text(rng)}核付{ch(('老年年金', '失能年金', '遺屬年金'))}{amount(rng)}",
        lambda: f"{case_no(rng)}補發差額{amount(rng)}",
        lambda: f"{r(108, 114)}{r(1, 13):02d}月份給付暫停",
        lambda: f"依{roc_text(rng)}{case_no(rng)}函辦理",
        lambda: "本案已結案",
        lambda: f"第{r(1, 12)}期分期攤還，每期{amount(rng)}",
        lambda: f"核定日期{roc_text(rng)}，給付金額{amount(rng)}",
        lambda: ch(("申請人本人親至櫃台辦理", "家屬表示將補件", "受款人帳戶已更正",
                            "配偶已歿", "電話無人接聽", "王先生來電詢問", "請林小姐補件",
                            "申請人高齡85歲", "郵局帳戶已於上月結清", "代理人持委託書辦理")),
        lambda: f"臺北市政府{roc_text(rng)}府社字第{r(108, 114)}{digits(rng, 7)}號函",
        lambda: f"平均月投保薪資{amount(rng)}，年資{r(1, 40)}年{r(1, 12)}個月",
        lambda: f"出生日期{roc_date(roc(rng))}，加保日期{roc_date(roc(rng))}",
        lambda: f"{case_no(rng)}，共{r(2, 30)}筆",
        lambda: f"匯款日期{r(2019, 2025)}-{r(1, 13):02d}-{r(1, 29):02d}",
        lambda: f"總計{r(1000000, 99999999):,}元，計算至{roc_text(rng)}",
        lambda: f"{ch(('臺北', '台中', '高雄'))}辦事處轉來，{case_no(rng)}",
        lambda: f"公司負擔{r(10**7, 10**8)}元，個人負擔{r(10**5, 10**6)}元",
        lambda: f"匯款手續費{r(10, 100)}元由銀行扣除，計{r(10**9, 10**10)}元",
        lambda: f"{ch(('2024/05/01', '2023-12-31'))} 14:{r(10, 60)}處理，電話費另計",
        lambda: ch(("身分證影本已收", "統一編號欄空白", "帳號欄位漏填", "請家屬檢附戶籍謄本",
                            "申請人方便時再來電", "受款人金額有誤，待更正", "本人簽名不符")),
        lambda: f"{ch(('中山路', '中正路'))}郵局{ch(('窗口', '代收'))}，{amount(rng)}",
    ]  # fmt: skip
    for i in range(rng.randrange(1, 4)):
        if i:
            c.add(rng.choice(SEP))
        c.add(rng.choice(pieces)())
    return []


def build(n: int = N, seed: int = SEED) -> list[dict[str, object]]:
    """``n`` labelled records (about a quarter without personal data), 20% of them holdout."""
    rng = random.Random(seed)
    records: list[dict[str, object]] = []
    for i in range(n):
        c = Composer()
        negative = rng.random() < 0.25
        template = t_negative if negative else POSITIVE[i % len(POSITIVE)]
        known = template(rng, c)
        if not negative and rng.random() < 0.3:  # a trailing non-personal remark
            c.add(rng.choice(SEP))
            t_negative(rng, c)
        records.append(
            {
                "id": i,
                "kind": "negative" if negative else template.__name__[2:],
                "split": "train",
                "text": c.text,
                "spans": c.spans,
                "known_names": known,
            }
        )
    order = list(range(n))
    random.Random(seed + 1).shuffle(order)
    for i in order[: round(n * HOLDOUT)]:
        records[i]["split"] = "holdout"
    return records


def write(records: Sequence[dict[str, object]], out: Path = OUT) -> None:
    """Write the records as JSON lines (UTF-8, not ASCII-escaped)."""
    with out.open("w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build and write the evaluation set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=N)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    records = build(args.n, args.seed)
    write(records, args.out)
    print(f"wrote {len(records)} records to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
