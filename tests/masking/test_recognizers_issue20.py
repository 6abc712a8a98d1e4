"""The recognizers on the classes of miss found by issue 20's independent sets, round by round:
each class on other writers' forms and on harmless look-alikes (the first examples of every
entity are in ``test_recognizers.py``)."""

from __future__ import annotations

import pytest

from masking.recognizers import (
    PERSON,
    SOCIAL_HANDLE,
    TW_ADDRESS,
    TW_BANK_ACCOUNT,
    TW_BUSINESS_ID,
    TW_NATIONAL_ID,
    TW_PHONE,
    analyze,
    redact,
)
from tests.masking.test_recognizers import entities, found  # the shared helpers

# --- issue 20: the classes the independent set showed -------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "聯絡電話886-2-2345-6789",  # international landline without the plus
        "電話(886)2-2345-6789",
        "電話886-02-2345-6789",  # the trunk 0 kept after the country code
        "請撥00886-2-23456789",
        "電話886223456789",  # bare, after a phone cue
        "市話886.2.2345.6789洽",
        "電話８８６－２－２３４５－６７８９",  # full width
        "公司（０２）２５０８－１２３４分機３１２找莫小姐",  # bracketed area code after 公司
        "家07 295 5732轉007 公司07 342 0083轉251",  # listed after another phone: not the business
        "已轉介農保窗口，電話05-777000。",  # seven digits after the area code, phone cue
        "聯絡電話：049 234567",
    ],
)
def test_international_and_fullwidth_landlines(text: str) -> None:
    assert TW_PHONE in entities(text)


def test_landline_shapes_that_are_no_phone() -> None:
    assert TW_PHONE not in entities("日期2023.02.15金額1.234.567")
    assert TW_PHONE not in entities("公司統編 02 23456789")  # business cue, no brackets
    assert TW_PHONE not in entities("案號05-777000")  # seven digits without a phone cue
    assert TW_PHONE not in entities("文號 05-777000 函")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("新帳戶700-0081234-0567890（郵局）", "700-0081234-0567890"),  # bank code + postal
        ("變更帳戶：匯入1234 5678 9012（彰化銀行）", "1234 5678 9012"),  # spaced groups
        ("郵局帳號7017117 9219029。", "7017117 9219029"),  # postal halves with a space
        # The second of two accounts joined by a word of change, its cue out of reach.
        ("受款帳戶由539-18-844951-7改為822-710-010682-317", "822-710-010682-317"),
        ("受款帳戶由2286571-6225122改為8358 8180 7136，", "8358 8180 7136"),
        ("匯款帳號012-345-678901-2、或700-1234567-8901234", "700-1234567-8901234"),
    ],
)
def test_account_with_bank_code_or_spaces(text: str, value: str) -> None:
    assert (TW_BANK_ACCOUNT, value) in found(text)


def test_numbers_near_an_account_that_are_no_account() -> None:
    assert TW_BANK_ACCOUNT not in entities("帳號123 4567")  # spaced, too few digits
    # A case number after an account, joined by a word of change: its own cue decides.
    text = "帳號0001234-5678901改為案號1130012345678"
    assert [v for e, v in found(text) if e == TW_BANK_ACCOUNT] == ["0001234-5678901"]


# Third round (issue 20): every way a writer cues a business ID. Right after a cue naming it,
# any 8 digits (a mistyped check digit, a date-like number); in brackets after a business or its
# owner, a valid one.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("來櫃詢問勞退自提 蔡旻蓁 公司統編19821208", "19821208"),  # date-like, after 公司統編
        ("負責人之商號（統編89148956）已歇業", "89148956"),  # wrong check digit, in brackets
        ("負責人：佘建宏　統一編號：80039856　營業地址", "80039856"),
        ("營利事業統一編號：１２３４５６７８，負責人", "１２３４５６７８"),  # full width
        ("扣繳單位統編 12345678 扣繳憑單", "12345678"),
        ("統一編號為12345678之公司", "12345678"),
        ("投保單位58556314 申報異動", "58556314"),
        ("統編號碼:27164164", "27164164"),
        ("小吃店老闆姚英傑統一編號25608146，僱用", "25608146"),  # glued to a name
        ("請提供12345678（統編）之扣繳資料", "12345678"),  # the cue after the number
        ("美髮店負責人紀韻如（98870987）為學徒", "98870987"),  # valid, after an owner
        ("大同股份有限公司(04595257)來函", "04595257"),  # valid, after a company name
        ("農場（41687911）僱用原住民", "41687911"),
    ],
)
def test_business_id_every_cue(text: str, value: str) -> None:
    assert (TW_BUSINESS_ID, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "案號（04595257）已收文",  # a case number in brackets
        "王小明（04595257）來電",  # no business before the brackets
        "公司12345678來函",  # a business cue but a wrong check digit
        "受理編號12345678",
        "投保金額12345678元",
        "日期20240101",
        "統編欄空白，請補填",
        "電話27221234",
        "美髮店負責人紀韻如（98870988）來電",  # in brackets: a wrong check digit
    ],
)
def test_business_id_look_alikes(text: str) -> None:
    assert TW_BUSINESS_ID not in entities(text)


def test_business_id_before_company() -> None:
    assert (TW_BUSINESS_ID, "58155298") in found("58155298公司負責人已變更")
    assert (TW_BUSINESS_ID, "53754816") in found("投保薪資以多報少，單位53754816已補正")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("請改寄臺北郵政第12-345號信箱，收件人", "臺北郵政第12-345號信箱"),
        ("中壢郵政第118號信箱收", "中壢郵政第118號信箱"),
        ("住花蓮縣秀林鄉富世村3鄰，信都寄到村辦公室", "花蓮縣秀林鄉富世村3鄰"),
        ("住臺東縣海端鄉霧鹿村，無鄰無號", "臺東縣海端鄉霧鹿村"),
        ("代填地址南投縣仁愛鄉發祥村瑞岩巷9號。", "南投縣仁愛鄉發祥村瑞岩巷9號"),
        ("地址為花蓮縣豐濱鄉港口村2鄰石梯坪52號", "花蓮縣豐濱鄉港口村2鄰石梯坪52號"),
        ("連江縣南竿鄉介壽村12號", "連江縣南竿鄉介壽村12號"),  # a village, then its number
        ("搬到高雄市三民區建工路附近", "高雄市三民區建工路"),  # a road without its number
        # A district and a village, no county, no neighbourhood.
        ("黎昱廷申請失能 住玉里鎮港墘里", "玉里鎮港墘里"),
        ("新址馬公市港墘里，電話另告", "馬公市港墘里"),
        ("變更通訊地址為平鎮區港墘里，原址不再收件", "平鎮區港墘里"),
        ("退回郵件：地址東港鎮長安里、無此門牌", "東港鎮長安里"),
    ],
)
def test_po_boxes_and_villages(text: str, value: str) -> None:
    assert (TW_ADDRESS, value) in found(text)


@pytest.mark.parametrize(
    "text",
    ["高雄市三民區公所回覆", "改寄至花蓮縣", "郵政儲金匯兌", "各鄉鎮市區村里辦公處",
     "距三民區約兩公里", "請洽竹北市港墘里里長", "文山區萬芳里辦公處轉交", "萬里區居民"],
)
def test_place_names_alone_are_no_address(text: str) -> None:
    assert TW_ADDRESS not in entities(text)


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ("請加LINE ID：wang.xm88聯繫", "wang.xm88"),
        ("加賴 @abc123", "@abc123"),
        ("IG帳號lin_mei，請私訊", "lin_mei"),
        ("微信號 wxid_abc123", "wxid_abc123"),
        ("Telegram @chen_tw 或電話", "@chen_tw"),
        ("其女line id是 meimei0305", "meimei0305"),
        ("Ｌｉｎｅ：ｋｏｌａｓ＿ｎｋ", "ｋｏｌａｓ＿ｎｋ"),  # full width
        ("已在Dcard發文，帳號kong_lj，", "kong_lj"),  # the label a little after the service
        ("他的帳號是@huangfu.wen，指責核定太慢", "@huangfu.wen"),  # @name, no e-mail
        ("在臉書粉專留言，帳號名稱阿嬌的日常，罵人", "阿嬌的日常"),
        ("加賴lulu.tw2 要求用賴聯絡", "lulu.tw2"),  # a Chinese cue glued to the handle
        ("LINE ID bear1133/電話(02)2247-0398", "bear1133"),  # a slash after the handle
        ("對方會用Telegram傳mei_0824聯絡", "mei_0824"),  # a verb between service and handle
        ("在Dcard以dragonfly7發文", "dragonfly7"),
        ("於Threads發文happy_ama指稱", "happy_ama"),
        ("他在Discord叫做night_owl", "night_owl"),  # services beyond the first list
        ("越籍看護Zalo：nguyen.lan88", "nguyen.lan88"),
        ("微信搜尋wxid_88abc", "wxid_88abc"),
    ],
)
def test_social_handles(text: str, handle: str) -> None:
    assert (SOCIAL_HANDLE, handle) in found(text)
    assert f"<{SOCIAL_HANDLE}>" in redact(text, analyze(text))


@pytest.mark.parametrize(
    "text",
    [
        "已用LINE Pay付款",  # the service's product
        "online deadline BIG",  # Latin cues inside words
        "在LINE官方帳號留言",  # a Chinese word after the label 帳號 is no handle
        "請寄wang@mail.bli.gov.tw",  # an e-mail address, not an @name
        "LINE ID 同手機",
        "賴先生ABC公司來電",  # 賴 as a surname: no verb-separated handle after it
        "用LINE傳PDF檔",  # a file type, not a handle
        "用LINE傳Maria的照片",  # a capitalised given name, not a handle
        "在Threads發文說明",
    ],
)
def test_social_handle_negatives(text: str) -> None:
    assert SOCIAL_HANDLE not in entities(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("受款人仉曉明", "仉曉明"),  # a rare surname
        ("戶名：林美玲", "林美玲"),  # a cue the recognizer did not know
        ("申請人之子王大明來電", "王大明"),  # relational phrases
        ("被保險人之配偶陳淑芬申請遺屬年金", "陳淑芬"),
        ("其女黃怡君代為申請", "黃怡君"),
        ("法定代理人蔡明哲代未成年子女蔡詠晴申請", "蔡詠晴"),
        ("聯絡人歐陽娜娜表示", "歐陽娜娜"),  # compound surnames
        ("早上張簡志偉打來罵人", "張簡志偉"),
        ("張李美玉女士來電", "張李美玉"),  # a married woman's two surnames
        ("外籍配偶阮氏秋香居留證號辦理", "阮氏秋香"),  # Vietnamese 氏
        ("原住民瓦歷斯‧諾幹來電", "瓦歷斯‧諾幹"),  # aboriginal and transliterated, dotted
        ("受款人麥可‧強森", "麥可‧強森"),
        ("Yapit·Tali之子來電", "Yapit·Tali"),
        ("法定代理人 Maria Santos 來電", "Maria Santos"),  # Latin letters
        ("民眾Nguyen Thi Lan來電（越南籍）", "Nguyen Thi Lan"),
        ("臨櫃民眾巴奈 庫穗說", "巴奈 庫穗"),  # aboriginal, with a space, after a cue
        ("陳玲女士表示帳戶已結清", "陳玲"),  # honorific after a given name
        ("有位邱阿土伯來電", "邱阿土"),
        ("其子王大明、王小華均同意", "王小華"),  # enumerated after a name
        ("地方法院函：逄俊宏與逄陳美雲離婚確定", "逄俊宏"),  # standing on its own
        ("地址：連江縣南竿鄉介壽村12號，陳依婷，電話0836-22 518。", "陳依婷"),
        ("剛才和傅志豪講好了，他下禮拜二會帶資料過來。", "傅志豪"),  # jieba
        ("經查，蔡宗翰已於上月遷出，請停止給付", "蔡宗翰"),
    ],
)
def test_person_names_of_issue_20(text: str, name: str) -> None:
    assert (PERSON, name) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "王先生來電",  # surname + honorific alone: a form of address
        "請洽承辦人黃專員",
        "申請人同意改匯",  # a weak surname (同) right after a cue
        "申請人於今日來電",
        "依勞工保險條例第63條第1項規定，遺屬得請領遺屬年金給付。",
        "說上月的年金少了兩千多，請承辦回電。",  # 年金 is a word: no name 金少
        "衛福部來函，已轉失能給付科。",
        "雇主新光公司 統編：79553440來函",
        "請承辦人員確認附件是否齊全（共5件）。",
        "Rep. caller asked about Taipei City Bank coverage",  # capitalised words, no name
    ],
)
def test_person_negatives_of_issue_20(text: str) -> None:
    assert PERSON not in entities(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # Dotted names cut where a word that follows names begins, two names in one run.
        ("麥可‧杜蘭太太來電查詢", "麥可‧杜蘭"),
        ("尤瑪·達陸老婆約翰‧布朗來代辦", "尤瑪·達陸"),
        ("尤瑪·達陸老婆約翰‧布朗來代辦", "約翰‧布朗"),
        ("監護人拉娃‧谷幸提出受監護人之帳戶變更", "拉娃‧谷幸"),
        ("民眾蘇珊‧卡特投訴承辦人態度不佳", "蘇珊‧卡特"),
        ("瓦旦‧尤幹女士攜子到櫃檯", "瓦旦‧尤幹"),
        ("法定代理人邵靜宜代巴奈·庫穗申請", "邵靜宜"),  # no dotted name across a cue
        # Spaced names: the first part no two-character Chinese name, the second cut.
        ("仲介聯絡人蘇路 瑪勞，電話另告", "蘇路 瑪勞"),
        ("被保險人伊凡 諾幹遷居，新址另告", "伊凡 諾幹"),
        ("莎韻 阿布要求將給付改匯", "莎韻 阿布"),
        ("wechat:dragonfly75 莎韻 阿布姐姐", "莎韻 阿布"),
        # Cues: the person by what they did, names by their kind, the person one comes with.
        ("電詢者莎韻 阿布，反映無法登入", "莎韻 阿布"),
        ("陳情者柯文雄表示不服", "柯文雄"),
        ("更正姓名，舊名金子晴", "金子晴"),
        ("安娜·李維女士攜子鄧芷涵到櫃檯", "鄧芷涵"),
        ("偕妻林美雪到場", "林美雪"),
        ("配偶侯偉、子盧志均已簽具同意書", "盧志"),  # a relation listed after punctuation
        ("持委託書代孫豪領取證明", "孫豪"),  # the cue's last character is the surname
        # A relation after a name (a Vietnamese 氏 name, an excluded compound surname).
        ("武氏芳老婆倪承恩來代辦", "武氏芳"),
        ("西門明德家屬饒靜宜臨櫃申請", "西門明德"),
        # Two-character names standing on their own before a particle or a predicate.
        ("石豪申請變更年金入帳帳戶", "石豪"),
        ("黃偉 改帳號", "黃偉"),
        ("梁志與配偶同來", "梁志"),
        ("温偉電話打不通", "温偉"),
        ("現場熊貞填寫申請書", "熊貞"),
        ("L196284463駱秋菊重複加保 待查", "駱秋菊"),  # glued to an identifier
    ],
)
def test_person_names_of_the_second_round(text: str, name: str) -> None:
    assert (PERSON, name) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "韓籍配偶來電",  # a nationality before a relation is no name
        "金寶有限公司申請",  # an organisation
        "高中畢業後申請",
        "溫泉申請",
        "黃金存摺遺失",
        "依勞保條例第12條申請",
        "第5項申請",
        "王先生申請補件",
    ],
)
def test_person_negatives_of_the_second_round(text: str) -> None:
    assert PERSON not in entities(text)


# --- third round (issue 20): identifiers, phones and accounts of any writer -----------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ARC no. T 938 900 456, phone", "T 938 900 456"),  # ARC no.: an ID cue, not "no."
        ("ARC No.: S914812485", "S914812485"),
        ("UI No. A800000014 issued", "A800000014"),
        ("ID no. A123456789", "A123456789"),
    ],
)
def test_national_id_after_a_latin_label_with_no(text: str, value: str) -> None:
    assert (TW_NATIONAL_ID, value) in found(text)


def test_registered_mail_numbers_are_no_ids() -> None:
    assert TW_NATIONAL_ID not in entities("掛號號碼RC46857170，已交寄。")
    assert TW_NATIONAL_ID not in entities("包裹追蹤碼 RC46857170")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # Extensions: a hyphen after a complete number, #, 轉, 分機, ext.
        ("家屬聯絡電話086536432-88", "086536432-88"),
        ("電話0499524518-364", "0499524518-364"),
        ("聯絡人高春嬌 039452731-435", "039452731-435"),
        ("聯絡(07)300-6037-3609", "(07)300-6037-3609"),
        ("新電話886-4-9240-0318-637", "886-4-9240-0318-637"),
        ("電話+886 89 237 502-5400", "+886 89 237 502-5400"),
        ("打去+886 836 68 604-066找人事", "+886 836 68 604-066"),
        ("市話(07)598-3453#9308也無人接", "(07)598-3453#9308"),
        ("電話05 779 3826轉4487", "05 779 3826轉4487"),
        ("電話０２－２３４５－６７８９分機１２３", "０２－２３４５－６７８９分機１２３"),
        ("回撥037602234 ext. 4487", "037602234 ext. 4487"),  # 回撥: a phone cue
        ("改撥0223456789", "0223456789"),
        ("call 0223456789 x12", "0223456789 x12"),
        # A mobile glued to a Latin name, in its groups.
        ("聯絡人Panay Mulu0939-975-463請於下班後聯絡", "0939-975-463"),
        ("Contact: Maria0912 345 678", "0912 345 678"),
    ],
)
def test_phone_every_writer(text: str, value: str) -> None:
    assert (TW_PHONE, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "案號02-2345-6789-1",  # a case number of a phone's shape
        "amy0912345678",  # a handle holding digits, no groups
        "受理編號 0223456789",
        "帳號050-12-345678-9",  # an account
    ],
)
def test_phone_look_alikes_of_the_third_round(text: str) -> None:
    assert TW_PHONE not in entities(text)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("更正帳號：誤植為0562596 9637443，正確為743-14-1747788",
         ["0562596 9637443", "743-14-1747788"]),
        ("更正帳號：誤植為189-15-0327045，正確為02420779962076",
         ["189-15-0327045", "02420779962076"]),
        ("帳戶異動：原108 225-59-620769738→新807 814-91-2413697",
         ["225-59-620769738", "814-91-2413697"]),
        ("帳號打錯了，01234567890應為01234567891", ["01234567890", "01234567891"]),
        ("帳號0001234-5678901；舊0009876-5432109", ["0001234-5678901", "0009876-5432109"]),
    ],
)
def test_account_corrected_or_replaced(text: str, values: list[str]) -> None:
    assert [v for e, v in found(text) if e == TW_BANK_ACCOUNT] == values


# --- third round (issue 20): handles by display name, every wording; post-office boxes -------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("FB搜尋Sunny Hung就可以找到她", "Sunny Hung"),  # a search, Latin words
        ("FB搜尋王小明 Tom就可以找到她", "王小明 Tom"),  # Chinese and Latin
        ("fb搜尋 阿芬的店", "阿芬的店"),  # lower-case service, a page name
        ("有事請私訊我臉書「陳美玲Meiling」", "陳美玲Meiling"),  # quoted after the service
        ("臉書名稱「Kevin Chang」，已私訊回覆", "Kevin Chang"),
        ("在Google評論留一星，帳號名稱林媽媽的菜園，主管請回應", "林媽媽的菜園"),
        ("在Google評論留一星，帳號名稱Amy Lin，主管請回應", "Amy Lin"),
        ("IG暱稱是小熊軟糖", "小熊軟糖"),
        ("抖音帳號叫 mimi.liao3", "mimi.liao3"),
        ("民眾要求以WeChat聯繫：hsieh.farm，大陸配偶", "hsieh.farm"),  # a verb, then a colon
        ("民眾說她的LINE ID改成ricechiu375了", "ricechiu375"),  # label, verb, handle
    ],
)
def test_handle_display_names_and_wordings(text: str, value: str) -> None:
    assert (SOCIAL_HANDLE, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "用LINE回覆「已收到」",  # a quoted message, no name label
        "臉書社團「勞保權益討論區」有人貼文",  # a group's name after 社團
        "Google搜尋勞保局官網",  # a web search
        "請民眾加入本局LINE官方帳號查詢進度。",
        "在FB看到公告",
    ],
)
def test_handle_display_name_look_alikes(text: str) -> None:
    assert SOCIAL_HANDLE not in entities(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("改寄郵政信箱台中郵局第174號信箱，涂華說", "台中郵局第174號信箱"),
        ("改寄郵政信箱台北郵政74之14號信箱", "台北郵政74之14號信箱"),
        ("寄板橋郵局第73-12號信箱", "板橋郵局第73-12號信箱"),
        ("請寄郵局信箱第25號", "郵局信箱第25號"),  # no verb in the post office's name
        ("郵政信箱 12-345號", "郵政信箱 12-345號"),
    ],
)
def test_post_office_boxes_every_wording(text: str, value: str) -> None:
    assert (TW_ADDRESS, value) in found(text)


@pytest.mark.parametrize("text", ["郵局第3號窗口", "郵局於第2季調整", "郵局帳號0001234-5678901"])
def test_post_office_look_alikes(text: str) -> None:
    assert TW_ADDRESS not in entities(text)


# --- third round (issue 20): names after the role they hold; a label after a spaced name ----


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("承辦宋芳在電話裡", "宋芳"),
        ("投訴信署名羅萍，內容", "羅萍"),
        ("聯絡員警佟秋月 電話(03) 4842072", "佟秋月"),
        ("債權人田中一郎對債務人聲請扣押", "田中一郎"),
        ("被保人禚芳 身分證號M116438799", "禚芳"),  # a spaced label after a short name
        ("受益人劉瑩 身分證Q103087825", "劉瑩"),
    ],
)
def test_person_after_a_role_of_the_third_round(text: str, name: str) -> None:
    assert (PERSON, name) in found(text)


@pytest.mark.parametrize("text", ["承辦單位已回覆", "選民服務處來電", "會員大會於下月召開"])
def test_person_role_look_alikes(text: str) -> None:
    assert PERSON not in entities(text)
