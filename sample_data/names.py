"""Chinese name material for the synthetic sample cities.

Everything here is fictional: word lists with their pinyin, Chinese
numerals, and GB/T 4754-2017 industry divisions with name words.  The
generator draws from these lists with a seeded random generator, so the
same seed always gives the same names.

Examples
--------
>>> zh_numeral(1), zh_numeral(12), zh_numeral(20), zh_numeral(105)
('一', '十二', '二十', '一百零五')
>>> combo_names(3, FIRST_CHARS, SECOND_CHARS, np.random.default_rng(1))[0].shape
(3,)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ROAD_WORDS",
    "FIRST_CHARS",
    "SECOND_CHARS",
    "BRAND_CHARS_1",
    "BRAND_CHARS_2",
    "DISTRICT_NAMES",
    "RIVER_NAMES",
    "TRIBUTARY_NAMES",
    "EMBANKMENT_NAMES",
    "INDUSTRIES",
    "INDUSTRY_MIX",
    "POLLUTANTS",
    "zh_numeral",
    "zh_numerals",
    "combo_names",
]

# Two-character words used for road names (zh, pinyin).
ROAD_WORDS: tuple[tuple[str, str], ...] = (
    ("解放", "Jiefang"), ("中山", "Zhongshan"), ("建设", "Jianshe"), ("发展", "Fazhan"),
    ("和平", "Heping"), ("友谊", "Youyi"), ("人民", "Renmin"), ("民族", "Minzu"),
    ("东风", "Dongfeng"), ("新华", "Xinhua"), ("胜利", "Shengli"), ("团结", "Tuanjie"),
    ("工业", "Gongye"), ("科技", "Keji"), ("文化", "Wenhua"), ("振兴", "Zhenxing"),
    ("青年", "Qingnian"), ("复兴", "Fuxing"), ("世纪", "Shiji"), ("光明", "Guangming"),
    ("民主", "Minzhu"), ("幸福", "Xingfu"), ("光华", "Guanghua"), ("学府", "Xuefu"),
    ("育才", "Yucai"), ("体育", "Tiyu"), ("公园", "Gongyuan"), ("车站", "Chezhan"),
    ("南湖", "Nanhu"), ("东湖", "Donghu"), ("紫阳", "Ziyang"), ("晴川", "Qingchuan"),
    ("黄鹤", "Huanghe"), ("首义", "Shouyi"), ("武胜", "Wusheng"), ("长丰", "Changfeng"),
    ("珞喻", "Luoyu"), ("雄楚", "Xiongchu"), ("徐东", "Xudong"), ("积玉", "Jiyu"),
    ("沙湖", "Shahu"), ("花园", "Huayuan"), ("桃源", "Taoyuan"), ("红旗", "Hongqi"),
    ("新村", "Xincun"), ("丹水", "Danshui"), ("三阳", "Sanyang"), ("黄石", "Huangshi"),
    ("汉兴", "Hanxing"), ("金桥", "Jinqiao"), ("江达", "Jiangda"), ("惠济", "Huiji"),
    ("常青", "Changqing"), ("万松", "Wansong"), ("航空", "Hangkong"), ("二七", "Erqi"),
    ("兴业", "Xingye"), ("永安", "Yong'an"), ("长春", "Changchun"), ("前进", "Qianjin"),
    ("跃进", "Yuejin"), ("群力", "Qunli"), ("卫星", "Weixing"), ("利民", "Limin"),
    ("安居", "Anju"), ("丽江", "Lijiang"), ("滨湖", "Binhu"), ("荷花", "Hehua"),
    ("玉泉", "Yuquan"), ("白云", "Baiyun"), ("凤凰", "Fenghuang"), ("龙华", "Longhua"),
    ("太平", "Taiping"), ("同心", "Tongxin"), ("春晖", "Chunhui"), ("朝阳", "Chaoyang"),
    ("清河", "Qinghe"), ("松林", "Songlin"), ("梅园", "Meiyuan"), ("翠微", "Cuiwei"),
    ("望江", "Wangjiang"), ("临湖", "Linhu"), ("双拥", "Shuangyong"), ("振华", "Zhenhua"),
    ("新民", "Xinmin"), ("高新", "Gaoxin"), ("创业", "Chuangye"), ("光谷", "Guanggu"),
    ("民权", "Minquan"), ("大智", "Dazhi"), ("黎黄", "Lihuang"), ("青石", "Qingshi"),
    ("石桥", "Shiqiao"), ("古田", "Gutian"), ("长港", "Changgang"), ("竹叶", "Zhuye"),
)

# Single characters (zh, pinyin) that combine into community / street / park names.
FIRST_CHARS: tuple[tuple[str, str], ...] = (
    ("东", "dong"), ("西", "xi"), ("南", "nan"), ("北", "bei"), ("新", "xin"), ("青", "qing"),
    ("红", "hong"), ("金", "jin"), ("银", "yin"), ("玉", "yu"), ("翠", "cui"), ("碧", "bi"),
    ("紫", "zi"), ("丹", "dan"), ("白", "bai"), ("黄", "huang"), ("龙", "long"), ("凤", "feng"),
    ("鹤", "he"), ("桃", "tao"), ("李", "li"), ("梅", "mei"), ("兰", "lan"), ("竹", "zhu"),
    ("菊", "ju"), ("松", "song"), ("柳", "liu"), ("荷", "he"), ("莲", "lian"), ("花", "hua"),
    ("春", "chun"), ("夏", "xia"), ("秋", "qiu"), ("明", "ming"), ("光", "guang"), ("华", "hua"),
    ("安", "an"), ("康", "kang"), ("福", "fu"), ("祥", "xiang"), ("和", "he"), ("平", "ping"),
    ("兴", "xing"), ("盛", "sheng"), ("永", "yong"), ("长", "chang"), ("丰", "feng"), ("泰", "tai"),
    ("宝", "bao"), ("瑞", "rui"), ("清", "qing"), ("晴", "qing"), ("育", "yu"), ("文", "wen"),
    ("德", "de"), ("仁", "ren"), ("嘉", "jia"), ("锦", "jin"), ("云", "yun"), ("星", "xing"),
)
SECOND_CHARS: tuple[tuple[str, str], ...] = (
    ("苑", "yuan"), ("园", "yuan"), ("湖", "hu"), ("山", "shan"), ("江", "jiang"), ("河", "he"),
    ("桥", "qiao"), ("林", "lin"), ("村", "cun"), ("港", "gang"), ("湾", "wan"), ("岭", "ling"),
    ("坊", "fang"), ("门", "men"), ("城", "cheng"), ("塘", "tang"), ("洲", "zhou"), ("滨", "bin"),
    ("阳", "yang"), ("庭", "ting"), ("居", "ju"), ("府", "fu"), ("景", "jing"), ("晖", "hui"),
    ("泉", "quan"), ("溪", "xi"), ("岸", "an"), ("台", "tai"), ("亭", "ting"), ("堤", "di"),
    ("坪", "ping"), ("田", "tian"), ("岗", "gang"), ("口", "kou"), ("轩", "xuan"), ("里", "li"),
    ("街", "jie"), ("院", "yuan"), ("源", "yuan"), ("丘", "qiu"), ("峰", "feng"), ("畔", "pan"),
    ("都", "du"), ("馨", "xin"), ("韵", "yun"),
)

# Characters for company "brand" names (字号).
BRAND_CHARS_1 = tuple("恒鑫华宏中天金瑞博星长楚东新九汇永盛嘉隆泰联信德昌荣顺安达源通利佳诚远创智广海兴明正宇润亿合益康万富")
BRAND_CHARS_2 = tuple("达源信远通泰盛昌鑫华丰运成发祥瑞辉腾越隆德利康美邦创新科翔凯宇晟阳鼎峰豪力拓航锐诺奥")

# District names (zh, pinyin): fictional, location-neutral.
DISTRICT_NAMES: tuple[tuple[str, str], ...] = (
    ("滨江区", "Binjiang District"), ("青山区", "Qingshan District"),
    ("龙泉区", "Longquan District"), ("新港区", "Xingang District"),
    ("金沙区", "Jinsha District"), ("凤凰区", "Fenghuang District"),
    ("白沙区", "Baisha District"), ("桃源区", "Taoyuan District"),
    ("长丰区", "Changfeng District"), ("双龙区", "Shuanglong District"),
    ("华阳区", "Huayang District"), ("望江区", "Wangjiang District"),
    ("明珠区", "Mingzhu District"), ("永安区", "Yong'an District"),
)

RIVER_NAMES: tuple[tuple[str, str], ...] = (
    ("清江", "Qing Jiang"), ("沧江", "Cang Jiang"), ("澄江", "Cheng Jiang"), ("玉带江", "Yudai Jiang"),
)
TRIBUTARY_NAMES: tuple[tuple[str, str], ...] = (
    ("白水河", "Baishui He"), ("青溪河", "Qingxi He"), ("府河", "Fu He"), ("金水河", "Jinshui He"),
)
EMBANKMENT_NAMES: tuple[tuple[str, str], ...] = (
    ("沿江大道", "Yanjiang Dadao"), ("滨江大道", "Binjiang Dadao"),
    ("临江大道", "Linjiang Dadao"), ("沿河大道", "Yanhe Dadao"),
    ("江堤路", "Jiangdi Lu"), ("河堤路", "Hedi Lu"),
)

# GB/T 4754-2017 divisions used by the generator: code -> (Chinese name, English, name words).
INDUSTRIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "C13": ("农副食品加工业", "Agricultural and sideline food processing", ("食品", "粮油", "农产品")),
    "C17": ("纺织业", "Textiles", ("纺织", "棉纺")),
    "C18": ("纺织服装、服饰业", "Apparel", ("服饰", "服装")),
    "C22": ("造纸和纸制品业", "Paper", ("纸业", "包装")),
    "C25": ("石油、煤炭及其他燃料加工业", "Petroleum and coal processing", ("石化", "石油化工", "燃料")),
    "C26": ("化学原料和化学制品制造业", "Chemical raw materials and products", ("化工", "化学", "精细化工", "化工材料")),
    "C27": ("医药制造业", "Pharmaceuticals", ("医药", "制药", "生物医药")),
    "C29": ("橡胶和塑料制品业", "Rubber and plastics", ("塑胶", "橡塑", "塑料制品")),
    "C30": ("非金属矿物制品业", "Non-metallic mineral products", ("建材", "玻璃", "陶瓷")),
    "C31": ("黑色金属冶炼和压延加工业", "Ferrous metal smelting", ("钢铁", "特钢")),
    "C33": ("金属制品业", "Metal products", ("金属制品", "五金")),
    "C34": ("通用设备制造业", "General machinery", ("机械", "机电设备")),
    "C36": ("汽车制造业", "Motor vehicles", ("汽车零部件", "汽车配件")),
    "C38": ("电气机械和器材制造业", "Electrical machinery", ("电气", "电器")),
    "C39": ("计算机、通信和其他电子设备制造业", "Computers and electronics", ("电子", "光电", "光电子")),
    "E47": ("房屋建筑业", "Building construction", ("建筑工程", "建设")),
    "E48": ("土木工程建筑业", "Civil engineering", ("路桥", "市政工程")),
    "F51": ("批发业", "Wholesale", ("商贸", "贸易", "物资")),
    "F52": ("零售业", "Retail", ("超市", "商行", "百货")),
    "G54": ("道路运输业", "Road transport", ("运输", "物流")),
    "G59": ("装卸搬运和仓储业", "Warehousing", ("仓储", "物流")),
    "H61": ("住宿业", "Accommodation", ("酒店", "宾馆")),
    "H62": ("餐饮业", "Catering", ("餐饮", "餐饮管理", "食府")),
    "I64": ("互联网和相关服务", "Internet services", ("网络科技", "互联网科技")),
    "I65": ("软件和信息技术服务业", "Software and IT services", ("软件", "信息技术", "数据科技")),
    "J66": ("货币金融服务", "Monetary finance", ("金融服务", "融资担保")),
    "J67": ("资本市场服务", "Capital markets", ("投资", "资产管理")),
    "J68": ("保险业", "Insurance", ("保险代理", "保险经纪")),
    "K70": ("房地产业", "Real estate", ("置业", "房地产开发", "物业管理")),
    "L72": ("商务服务业", "Business services", ("企业管理咨询", "商务服务", "人力资源")),
    "M73": ("研究和试验发展", "Research and development", ("研究院", "技术研究")),
    "M74": ("专业技术服务业", "Professional technical services", ("工程设计", "检测")),
    "M75": ("科技推广和应用服务业", "Technology promotion", ("科技", "技术服务")),
    "N77": ("生态保护和环境治理业", "Environmental management", ("环保", "环境工程")),
    "O80": ("居民服务业", "Resident services", ("家政服务", "洗衣", "美容美发")),
    "O81": ("机动车、电子产品和日用产品修理业", "Repair services", ("汽车维修", "维修服务")),
    "P83": ("教育", "Education", ("教育咨询", "培训")),
    "Q84": ("卫生", "Health", ("医疗", "诊所")),
    "R86": ("广播、电视、电影和录音制作业", "Media", ("文化传媒", "影视")),
    "R90": ("娱乐业", "Entertainment", ("文化娱乐", "娱乐")),
}

# Industry mix (division code, weight) by building use.
INDUSTRY_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    "industrial": (
        ("C26", 8), ("C25", 2), ("C27", 4), ("C29", 6), ("C30", 5), ("C31", 2), ("C33", 8),
        ("C34", 8), ("C36", 7), ("C38", 6), ("C39", 7), ("C13", 4), ("C17", 3), ("C18", 3),
        ("C22", 2), ("F51", 8), ("G59", 6), ("G54", 4), ("E48", 3), ("M73", 2), ("N77", 1),
    ),
    "commercial": (
        ("F52", 12), ("H61", 4), ("H62", 14), ("I64", 4), ("I65", 8), ("J66", 4), ("J67", 2),
        ("J68", 2), ("K70", 6), ("L72", 12), ("M74", 5), ("M75", 4), ("O80", 6), ("O81", 3),
        ("P83", 4), ("Q84", 2), ("R86", 2), ("R90", 2), ("F51", 4), ("E47", 2), ("N77", 1),
    ),
    "mixed": (
        ("F52", 16), ("H62", 18), ("O80", 10), ("L72", 8), ("K70", 4), ("P83", 5), ("Q84", 3),
        ("I65", 4), ("J66", 2), ("O81", 4), ("H61", 2),
    ),
}

# Main pollutant by industry division (others: VOCs).
POLLUTANTS: dict[str, tuple[str, ...]] = {
    "C25": ("SO2", "VOCs", "NOx"), "C26": ("VOCs", "NH3-N", "COD"), "C27": ("COD", "VOCs"),
    "C31": ("SO2", "NOx", "PM10"), "C30": ("PM10", "NOx"), "C22": ("COD",), "C17": ("COD",),
    "C33": ("heavy_metals", "VOCs"), "C13": ("COD", "NH3-N"), "C29": ("VOCs",),
    "C39": ("heavy_metals", "VOCs"), "C38": ("VOCs",), "C36": ("VOCs", "PM10"),
}

_DIGITS = "零一二三四五六七八九"


def zh_numeral(n: int) -> str:
    """Chinese numeral for 0 <= n < 10000 (``12`` -> ``十二``)."""
    n = int(n)
    if not 0 <= n < 10000:
        raise ValueError(f"need 0 <= n < 10000, got {n}")
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + ("" if n == 10 else _DIGITS[n - 10])
    out = ""
    units = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
    zero = False
    started = False
    for value, unit in units:
        d = n // value % 10
        if d == 0:
            zero = started
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + unit
        started = True
    return out


def zh_numerals(values) -> np.ndarray:
    """Chinese numerals for an array of small non-negative integers (via a lookup table)."""
    values = np.asarray(values, dtype=np.int64)
    top = int(values.max()) + 1 if len(values) else 1
    table = np.array([zh_numeral(i) for i in range(top)], dtype=object)
    return table[values]


def combo_names(n: int, first, second, rng: np.random.Generator):
    """``n`` distinct two-character names (zh, pinyin) drawn from ``first`` x ``second``.

    When ``n`` exceeds the number of combinations, later names get a numeric
    suffix (``东苑二``) so they stay distinct.
    """
    a_zh = np.array([c for c, _ in first], dtype=object)
    a_py = np.array([p for _, p in first], dtype=object)
    b_zh = np.array([c for c, _ in second], dtype=object)
    b_py = np.array([p for _, p in second], dtype=object)
    total = len(a_zh) * len(b_zh)
    order = rng.permutation(total)
    reps = -(-n // total)
    idx = np.concatenate([order] * reps)[:n]
    rep = np.repeat(np.arange(reps), total)[:n]
    ia, ib = np.divmod(idx, len(b_zh))
    zh = a_zh[ia] + b_zh[ib]
    py = np.array([s.capitalize() for s in (a_py[ia] + b_py[ib])], dtype=object)
    if reps > 1:
        suffix = zh_numerals(rep + 1)
        zh = np.where(rep > 0, zh + suffix, zh)
        py = np.where(rep > 0, py + " " + (rep + 1).astype(str).astype(object), py)
    return zh, py
