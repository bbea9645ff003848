<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AggregateList</name>
    <message>
        <source>None: grouped queries count the features.</source>
        <translation>无：分组查询统计要素数量。</translation>
    </message>
    <message>
        <source>+ Aggregate</source>
        <translation>+ 统计项</translation>
    </message>
</context>
<context>
    <name>AggregateRow</name>
    <message>
        <source>A numeric column of the target</source>
        <translation>目标图层的数值字段</translation>
    </message>
    <message>
        <source>result column name</source>
        <translation>结果字段名</translation>
    </message>
    <message>
        <source>The name of the result column</source>
        <translation>结果字段的名称</translation>
    </message>
    <message>
        <source>Remove this aggregate</source>
        <translation>删除此统计项</translation>
    </message>
    <message>
        <source>as</source>
        <translation>命名为</translation>
    </message>
</context>
<context>
    <name>AttributeTable</name>
    <message>
        <source>Filter: column op value (e.g. floors &gt;= 10), or text to search</source>
        <translation>筛选：字段 运算符 值（如 floors &gt;= 10），或输入要搜索的文本</translation>
    </message>
    <message>
        <source>Selected only</source>
        <translation>仅显示选中</translation>
    </message>
    <message>
        <source>Zoom to selected</source>
        <translation>缩放至选中要素</translation>
    </message>
    <message>
        <source>Clear selection</source>
        <translation>清除选择</translation>
    </message>
    <message>
        <source>Export selection…</source>
        <translation>导出选中要素…</translation>
    </message>
    <message>
        <source>{0} of {1} rows shown, {2} selected</source>
        <translation>显示 {0}/{1} 行，已选中 {2} 行</translation>
    </message>
    <message>
        <source>Nothing is selected.</source>
        <translation>未选中任何要素。</translation>
    </message>
    <message>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV (*.csv)</translation>
    </message>
    <message>
        <source>GeoJSON (*.geojson)</source>
        <translation>GeoJSON (*.geojson)</translation>
    </message>
    <message>
        <source>Export selection</source>
        <translation>导出选中要素</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <source>Exported {0} rows to {1}</source>
        <translation>已将 {0} 行导出至 {1}</translation>
    </message>
</context>
<context>
    <name>CancellableRun</name>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
</context>
<context>
    <name>CompareDialog</name>
    <message>
        <source>Compare drills</source>
        <translation>演练对比</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <source>Impact</source>
        <translation>影响</translation>
    </message>
    <message>
        <source>Difference</source>
        <translation>差值</translation>
    </message>
    <message>
        <source>Run {0}</source>
        <translation>运行 {0}</translation>
    </message>
    <message>
        <source>Scenario {0}</source>
        <translation>情景 {0}</translation>
    </message>
    <message>
        <source>Running the scenarios…</source>
        <translation>正在运行情景…</translation>
    </message>
    <message>
        <source>Could not compare: {0}</source>
        <translation>无法对比：{0}</translation>
    </message>
    <message>
        <source>B − A: positive means B affects more.</source>
        <translation>B − A：正值表示 B 的影响更大。</translation>
    </message>
</context>
<context>
    <name>ConditionGroup</name>
    <message>
        <source>Any of these (OR):</source>
        <translation>满足以下任一条件（或）：</translation>
    </message>
    <message>
        <source>Remove this group</source>
        <translation>删除此条件组</translation>
    </message>
</context>
<context>
    <name>ConditionList</name>
    <message>
        <source>No conditions: every feature.</source>
        <translation>无条件：全部要素。</translation>
    </message>
    <message>
        <source>+ Condition</source>
        <translation>+ 条件</translation>
    </message>
    <message>
        <source>+ Alternative</source>
        <translation>+ 备选条件</translation>
    </message>
    <message>
        <source>+ Either/or group</source>
        <translation>+ 或条件组</translation>
    </message>
    <message>
        <source>Conditions of which any one may hold</source>
        <translation>满足其中任一即可的条件</translation>
    </message>
</context>
<context>
    <name>ConditionRow</name>
    <message>
        <source>Column</source>
        <translation>字段</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>运算符</translation>
    </message>
    <message>
        <source>Remove this condition</source>
        <translation>删除此条件</translation>
    </message>
</context>
<context>
    <name>CrsDialog</name>
    <message>
        <source>Map coordinate reference system</source>
        <extracomment>Offered first: the CRSs a Chinese city&apos;s data usually comes in.</extracomment>
        <translation>地图坐标系</translation>
    </message>
    <message>
        <source>Search by EPSG code or name (e.g. 4547, CGCS2000, UTM 50N):</source>
        <translation>按 EPSG 代码或名称搜索（如 4547、CGCS2000、UTM 50N）：</translation>
    </message>
    <message>
        <source>Search…</source>
        <translation>搜索…</translation>
    </message>
</context>
<context>
    <name>DrillsPanel</name>
    <message>
        <source>Scenario</source>
        <translation>情景</translation>
    </message>
    <message>
        <source>Impact</source>
        <translation>影响</translation>
    </message>
    <message>
        <source>Run drill</source>
        <translation>运行演练</translation>
    </message>
    <message>
        <source>Compute the impact of the hazard (in the background)</source>
        <translation>计算危害的影响（在后台运行）</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>A scenario saved in the workspace, or a new one</source>
        <translation>工作空间中已保存的情景，或新建情景</translation>
    </message>
    <message>
        <source>e.g. Chlorine leak drill</source>
        <translation>如：氯气泄漏演练</translation>
    </message>
    <message>
        <source>Save scenario…</source>
        <translation>保存情景…</translation>
    </message>
    <message>
        <source>Keep the scenario in the workspace</source>
        <translation>将情景保存到工作空间</translation>
    </message>
    <message>
        <source>Compare…</source>
        <translation>对比…</translation>
    </message>
    <message>
        <source>Two scenarios or runs side by side</source>
        <translation>并排对比两个情景或运行结果</translation>
    </message>
    <message>
        <source>Saved:</source>
        <translation>已保存：</translation>
    </message>
    <message>
        <source>Title:</source>
        <translation>标题：</translation>
    </message>
    <message>
        <source>Hazard</source>
        <translation>危害</translation>
    </message>
    <message>
        <source>Kind:</source>
        <translation>类型：</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>Where the wind blows from (north at the top)</source>
        <translation>风的来向（上方为北）</translation>
    </message>
    <message>
        <source>Wind direction: where it blows FROM, clockwise from north (0 = N, 45 = NE, 90 = E …)</source>
        <translation>风向：风吹来的方向，从正北顺时针计（0 = 北，45 = 东北，90 = 东 …）</translation>
    </message>
    <message>
        <source>How far downwind the plume reaches</source>
        <translation>羽流沿下风向延伸的距离</translation>
    </message>
    <message>
        <source>Full opening angle of the plume</source>
        <translation>羽流的总张角</translation>
    </message>
    <message>
        <source>Distances in metres that split the area into bands, ascending, separated by commas</source>
        <translation>将区域划分为各分区的距离（米），按升序排列，以逗号分隔</translation>
    </message>
    <message>
        <source>Wind from:</source>
        <translation>风向：</translation>
    </message>
    <message>
        <source>Length:</source>
        <translation>扩散长度：</translation>
    </message>
    <message>
        <source>Spread:</source>
        <translation>扩散角：</translation>
    </message>
    <message>
        <source>Shape:</source>
        <translation>扩散形状：</translation>
    </message>
    <message>
        <source>Rings (m):</source>
        <translation>分环距离（米）：</translation>
    </message>
    <message>
        <source>Shelters</source>
        <translation>避难场所</translation>
    </message>
    <message>
        <source>Layer:</source>
        <translation>图层：</translation>
    </message>
    <message>
        <source>Capacity:</source>
        <translation>容量：</translation>
    </message>
    <message>
        <source>Needs profile…</source>
        <translation>需求标准…</translation>
    </message>
    <message>
        <source>Minimum needs per displaced person per day (water, food, toilets …): edit the rates</source>
        <translation>每名转移人员每日的最低需求（饮用水、食品、厕所 …）：编辑定额</translation>
    </message>
    <message>
        <source>Needs:</source>
        <translation>物资需求：</translation>
    </message>
    <message>
        <source>Place on map</source>
        <translation>在地图上选点</translation>
    </message>
    <message>
        <source>Click the map where the hazard starts</source>
        <translation>在地图上单击危害发生位置</translation>
    </message>
    <message>
        <source>or pick a hazardous site…</source>
        <translation>或选择危险源…</translation>
    </message>
    <message>
        <source>Hazardous-chemical sites and enterprises with a hazard class; type to search</source>
        <translation>危化品场所及有危险类别的企业；输入文字可搜索</translation>
    </message>
    <message>
        <source>No point yet</source>
        <translation>尚未选点</translation>
    </message>
    <message>
        <source>Source:</source>
        <translation>危害源：</translation>
    </message>
    <message>
        <source>Class column:</source>
        <translation>分级字段：</translation>
    </message>
    <message>
        <source>Cells at or above this value are the hazard (e.g. flood depth 0.3 m)</source>
        <translation>值大于或等于此值的像元为危害范围（如洪水深度 0.3 米）</translation>
    </message>
    <message>
        <source>Raster:</source>
        <translation>栅格：</translation>
    </message>
    <message>
        <source>At least:</source>
        <translation>不小于：</translation>
    </message>
    <message>
        <source>Draw on map</source>
        <translation>在地图上绘制</translation>
    </message>
    <message>
        <source>Click the corners; double-click or Enter finishes</source>
        <translation>单击各顶点；双击或按 Enter 结束</translation>
    </message>
    <message>
        <source>No area drawn yet</source>
        <translation>尚未绘制区域</translation>
    </message>
    <message>
        <source>Run a drill to see its impact here.</source>
        <translation>运行演练后，影响结果将显示在此处。</translation>
    </message>
    <message>
        <source>Count</source>
        <translation>数量</translation>
    </message>
    <message>
        <source>Band</source>
        <translation>分区</translation>
    </message>
    <message>
        <source>Residents</source>
        <translation>居民</translation>
    </message>
    <message>
        <source>0–14</source>
        <translation>0–14 岁</translation>
    </message>
    <message>
        <source>15–64</source>
        <translation>15–64 岁</translation>
    </message>
    <message>
        <source>65+</source>
        <translation>65+ 岁</translation>
    </message>
    <message>
        <source>Buildings</source>
        <translation>建筑物</translation>
    </message>
    <message>
        <source>Gas plume (wind)</source>
        <extracomment>Hazard kinds in the order the form offers them. Kinds whose footprint is cheap enough to preview on the UI thread. Facility layers listed in the summary, in this order (whichever exist). Layers offered as &quot;around every feature of&quot; sources of a buffer hazard (when present).</extracomment>
        <translation>气体羽流（随风扩散）</translation>
    </message>
    <message>
        <source>Rings around a point</source>
        <translation>点周围的环形缓冲区</translation>
    </message>
    <message>
        <source>Zones of a polygon layer</source>
        <translation>面图层的分区</translation>
    </message>
    <message>
        <source>Raster above a threshold</source>
        <translation>栅格超过阈值</translation>
    </message>
    <message>
        <source>Area drawn on the map</source>
        <translation>在地图上绘制的区域</translation>
    </message>
    <message>
        <source>Sector</source>
        <translation>扇形</translation>
    </message>
    <message>
        <source>Gaussian teardrop</source>
        <translation>高斯泪滴形</translation>
    </message>
    <message>
        <source>Schools</source>
        <translation>学校</translation>
    </message>
    <message>
        <source>Kindergartens</source>
        <translation>幼儿园</translation>
    </message>
    <message>
        <source>Hospitals</source>
        <translation>医院</translation>
    </message>
    <message>
        <source>Clinics</source>
        <translation>社区卫生服务站</translation>
    </message>
    <message>
        <source>Elderly-care homes</source>
        <translation>养老机构</translation>
    </message>
    <message>
        <source>pupils</source>
        <translation>学生数</translation>
    </message>
    <message>
        <source>beds</source>
        <translation>床位</translation>
    </message>
    <message>
        <source>places</source>
        <translation>学位</translation>
    </message>
    <message>
        <source>Aged 0–14</source>
        <translation>0–14 岁</translation>
    </message>
    <message>
        <source>Aged 15–64</source>
        <translation>15–64 岁</translation>
    </message>
    <message>
        <source>Aged 65 and over</source>
        <translation>65 岁及以上</translation>
    </message>
    <message>
        <source>Enterprises to notify</source>
        <translation>需通知的企业</translation>
    </message>
    <message>
        <source>Hazardous-chemical enterprises</source>
        <translation>危化企业</translation>
    </message>
    <message>
        <source>Employees of these enterprises</source>
        <translation>这些企业的从业人员</translation>
    </message>
    <message>
        <source>Roads cut</source>
        <translation>受阻道路</translation>
    </message>
    <message>
        <source>Length of roads cut (m)</source>
        <translation>受阻道路长度（米）</translation>
    </message>
    <message>
        <source>Displaced residents</source>
        <translation>需转移人口</translation>
    </message>
    <message>
        <source>Shelter capacity</source>
        <translation>避难场所容量</translation>
    </message>
    <message>
        <source>Unsheltered</source>
        <translation>未安置</translation>
    </message>
    <message>
        <source>n/a</source>
        <translation>无</translation>
    </message>
    <message>
        <source> m</source>
        <translation> 米</translation>
    </message>
    <message>
        <source>Enterprises</source>
        <translation>企业</translation>
    </message>
    <message>
        <source>Residents by age group</source>
        <translation>各年龄段居民</translation>
    </message>
    <message>
        <source>Residents per band</source>
        <translation>各分区居民</translation>
    </message>
    <message>
        <source>Buildings per band</source>
        <translation>各分区建筑物</translation>
    </message>
    <message>
        <source>Show:</source>
        <translation>显示：</translation>
    </message>
    <message>
        <source>Per band (most severe first):</source>
        <translation>按分区（最严重的在前）：</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>The enterprises to notify, as a CSV file</source>
        <translation>将需通知的企业导出为 CSV 文件</translation>
    </message>
    <message>
        <source>Schools, hospitals and care homes in the area, as a CSV file</source>
        <translation>将区域内的学校、医院和养老机构导出为 CSV 文件</translation>
    </message>
    <message>
        <source>Need</source>
        <translation>物资</translation>
    </message>
    <message>
        <source>Per day</source>
        <translation>每天</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>单位</translation>
    </message>
    <message>
        <source>Show the walks to the shelters on the map</source>
        <translation>在地图上显示前往避难场所的步行路线</translation>
    </message>
    <message>
        <source>A line from each affected building to its shelter</source>
        <translation>从每栋受影响建筑物到其避难场所的连线</translation>
    </message>
    <message>
        <source>Needs of the displaced per day:</source>
        <translation>需转移人口每天物资需求：</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>汇总</translation>
    </message>
    <message>
        <source>Chart</source>
        <translation>图表</translation>
    </message>
    <message>
        <source>Notify</source>
        <translation>通知</translation>
    </message>
    <message>
        <source>Facilities</source>
        <translation>重要设施</translation>
    </message>
    <message>
        <source>Report (HTML)…</source>
        <translation>报告 (HTML)…</translation>
    </message>
    <message>
        <source>One self-contained HTML drill report</source>
        <translation>单个独立的 HTML 演练报告</translation>
    </message>
    <message>
        <source>PDF…</source>
        <translation>PDF…</translation>
    </message>
    <message>
        <source>The drill report as PDF</source>
        <translation>PDF 格式的演练报告</translation>
    </message>
    <message>
        <source>Interactive map…</source>
        <translation>交互式地图…</translation>
    </message>
    <message>
        <source>An HTML map that opens offline in any browser</source>
        <translation>可在任意浏览器中离线打开的 HTML 地图</translation>
    </message>
    <message>
        <source>(no shelters)</source>
        <translation>（无避难场所）</translation>
    </message>
    <message>
        <source>New scenario</source>
        <translation>新建情景</translation>
    </message>
    <message>
        <source>Point on the map</source>
        <translation>地图上的点</translation>
    </message>
    <message>
        <source>Around every feature of: {0}</source>
        <translation>围绕图层的每个要素：{0}</translation>
    </message>
    <message>
        <source>from {0}, towards {1}</source>
        <translation>从 {0} 吹向 {1}</translation>
    </message>
    <message>
        <source>Click the map where the hazard starts.</source>
        <translation>在地图上单击危害发生位置。</translation>
    </message>
    <message>
        <source>Click the corners of the area; double-click or press Enter to finish, Esc to cancel.</source>
        <translation>单击区域的各顶点；双击或按 Enter 完成，按 Esc 取消。</translation>
    </message>
    <message>
        <source>Area with {0} corners</source>
        <translation>区域（{0} 个顶点）</translation>
    </message>
    <message>
        <source>Area drawn</source>
        <translation>已绘制区域</translation>
    </message>
    <message>
        <source>Rings around each of its features</source>
        <translation>其每个要素周围的缓冲环</translation>
    </message>
    <message>
        <source>{0} has no location.</source>
        <translation>{0} 没有位置信息。</translation>
    </message>
    <message>
        <source>A plume starts at one point: place it on the map or pick a site.</source>
        <translation>羽流起始于一个点：请在地图上选点或选择危险源。</translation>
    </message>
    <message>
        <source>Place the source on the map or pick a hazardous site.</source>
        <translation>请在地图上选点或选择危险源。</translation>
    </message>
    <message>
        <source>Draw the area on the map.</source>
        <translation>请在地图上绘制区域。</translation>
    </message>
    <message>
        <source>The workspace has no polygon layer for zones.</source>
        <translation>工作空间中没有可用作区域的面图层。</translation>
    </message>
    <message>
        <source>The workspace has no raster layer.</source>
        <translation>工作空间中没有栅格图层。</translation>
    </message>
    <message>
        <source>hazard.rings_m: {0} is not a number</source>
        <translation>hazard.rings_m：{0} 不是数字</translation>
    </message>
    <message>
        <source>Save scenario</source>
        <translation>保存情景</translation>
    </message>
    <message>
        <source>Name of the scenario in the workspace:</source>
        <translation>情景保存名称：</translation>
    </message>
    <message>
        <source>A scenario called {0} exists. Replace it?</source>
        <translation>已存在名为 {0} 的情景。是否替换？</translation>
    </message>
    <message>
        <source>Scenario saved as {0} (save the workspace to keep it)</source>
        <translation>情景已保存为 {0}（保存工作空间后才会保留）</translation>
    </message>
    <message>
        <source>Preview failed: {0}</source>
        <translation>预览失败：{0}</translation>
    </message>
    <message>
        <source>Running the drill…</source>
        <translation>正在运行演练…</translation>
    </message>
    <message>
        <source>Drill computed in {0} s</source>
        <translation>演练计算完成，用时 {0} 秒</translation>
    </message>
    <message>
        <source>The drill failed: {0}</source>
        <translation>演练失败：{0}</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>&lt;b&gt;{0}&lt;/b&gt; residents</source>
        <translation>居民 &lt;b&gt;{0}&lt;/b&gt; 人</translation>
    </message>
    <message>
        <source>&lt;b&gt;{0}&lt;/b&gt; buildings</source>
        <translation>建筑物 &lt;b&gt;{0}&lt;/b&gt; 栋</translation>
    </message>
    <message>
        <source>&lt;b&gt;{0}&lt;/b&gt; enterprises to notify ({1} hazardous)</source>
        <translation>需通知的企业 &lt;b&gt;{0}&lt;/b&gt; 家（其中危化企业 {1} 家）</translation>
    </message>
    <message>
        <source>&lt;b&gt;{0}&lt;/b&gt; unsheltered</source>
        <translation>未安置 &lt;b&gt;{0}&lt;/b&gt; 人</translation>
    </message>
    <message>
        <source>Run at {0} UTC</source>
        <translation>运行时间：{0} UTC</translation>
    </message>
    <message>
        <source>{0} enterprises to notify, hazardous-chemical ones first.</source>
        <translation>需通知的企业共 {0} 家，危化企业排在前面。</translation>
    </message>
    <message>
        <source>Assigned by road-network distance.</source>
        <translation>按路网距离分配。</translation>
    </message>
    <message>
        <source>Assigned by straight-line distance: no usable road network.</source>
        <translation>按直线距离分配：无可用路网。</translation>
    </message>
    <message>
        <source>Displaced &lt;b&gt;{0}&lt;/b&gt; · capacity &lt;b&gt;{1}&lt;/b&gt; · unsheltered &lt;b&gt;{2}&lt;/b&gt; · longest walk &lt;b&gt;{3} m&lt;/b&gt;</source>
        <translation>需转移 &lt;b&gt;{0}&lt;/b&gt; · 容量 &lt;b&gt;{1}&lt;/b&gt; · 未安置 &lt;b&gt;{2}&lt;/b&gt; · 最远步行距离 &lt;b&gt;{3} 米&lt;/b&gt;</translation>
    </message>
    <message>
        <source>No shelter layer in this scenario.</source>
        <translation>此情景中没有避难场所图层。</translation>
    </message>
    <message>
        <source>Needs of the displaced: {0}</source>
        <translation>需转移人口物资需求：{0}</translation>
    </message>
    <message>
        <source>(capacity {0})</source>
        <translation>（容量 {0}）</translation>
    </message>
    <message>
        <source>Safe places outside the hazard: {0}</source>
        <translation>危害范围外的安全场所：{0}</translation>
    </message>
    <message>
        <source>hazardous chemicals</source>
        <translation>危险化学品</translation>
    </message>
    <message>
        <source>hazardous site</source>
        <translation>危险源单位</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Employees</source>
        <translation>从业人员</translation>
    </message>
    <message>
        <source>USCC</source>
        <translation>统一社会信用代码</translation>
    </message>
    <message>
        <source>Industry</source>
        <translation>行业</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>规模</translation>
    </message>
    <message>
        <source>Of</source>
        <translation>单位</translation>
    </message>
    <message>
        <source>ID</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>ok</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>in the hazard: not used</source>
        <translation>位于危害范围内：不使用</translation>
    </message>
    <message>
        <source>no location</source>
        <translation>无位置</translation>
    </message>
    <message>
        <source>Shelter</source>
        <translation>避难场所</translation>
    </message>
    <message>
        <source>Assigned</source>
        <translation>分配人数</translation>
    </message>
    <message>
        <source>Capacity</source>
        <translation>容量</translation>
    </message>
    <message>
        <source>Longest walk (m)</source>
        <translation>最远步行距离（米）</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Nothing to chart</source>
        <translation>无图表数据</translation>
    </message>
    <message>
        <source>Export enterprises to notify</source>
        <translation>导出需通知的企业</translation>
    </message>
    <message>
        <source>Export facilities</source>
        <translation>导出重要设施</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV (*.csv)</translation>
    </message>
    <message>
        <source>Save drill report</source>
        <translation>保存演练报告</translation>
    </message>
    <message>
        <source>Save drill report as PDF</source>
        <translation>将演练报告保存为 PDF</translation>
    </message>
    <message>
        <source>Save interactive map</source>
        <translation>保存交互式地图</translation>
    </message>
    <message>
        <source>HTML files (*.html)</source>
        <translation>HTML 文件 (*.html)</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>PDF 文件 (*.pdf)</translation>
    </message>
    <message>
        <source>Busy</source>
        <translation>正忙</translation>
    </message>
    <message>
        <source>Another file is being written; try again shortly.</source>
        <translation>正在写入另一个文件，请稍后重试。</translation>
    </message>
    <message>
        <source>Writing {0}…</source>
        <translation>正在写入 {0}…</translation>
    </message>
    <message>
        <source>Written: {0}</source>
        <translation>已写入：{0}</translation>
    </message>
    <message>
        <source>Writing failed</source>
        <translation>写入失败</translation>
    </message>
    <message>
        <source>Could not write {0}: {1}</source>
        <translation>无法写入 {0}：{1}</translation>
    </message>
</context>
<context>
    <name>FrameTableModel</name>
    <message>
        <source>unknown column &apos;{0}&apos;; columns: {1}</source>
        <extracomment>Item data role: the source row (position in the frame) of a display row. Above this many separate runs of selected rows the view&apos;s own selection is not rebuilt (Qt checks it range by range); selected rows stay highlighted by the model.</extracomment>
        <translation>未知字段“{0}”；现有字段：{1}</translation>
    </message>
    <message>
        <source>a value is missing after &apos;{0}&apos;</source>
        <translation>“{0}”之后缺少值</translation>
    </message>
    <message>
        <source>People count: values below {0} are not shown.</source>
        <translation>人数：小于 {0} 的数值不显示。</translation>
    </message>
    <message>
        <source>column &apos;{0}&apos; holds numbers; &apos;{1}&apos; is not a number</source>
        <translation>字段“{0}”为数值型；“{1}”不是数字</translation>
    </message>
    <message>
        <source>column &apos;{0}&apos; holds true/false; got &apos;{1}&apos;</source>
        <translation>字段“{0}”为真/假值；收到“{1}”</translation>
    </message>
    <message>
        <source>cannot compare column &apos;{0}&apos; with &apos;{1}&apos;: {2}</source>
        <translation>无法将字段“{0}”与“{1}”比较：{2}</translation>
    </message>
</context>
<context>
    <name>IdentifyPanel</name>
    <message>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>row {0}</source>
        <translation>第 {0} 行</translation>
    </message>
</context>
<context>
    <name>ImportDialog</name>
    <message>
        <source>The layer &apos;{0}&apos; is no longer in the workspace.</source>
        <translation>图层“{0}”已不在工作空间中。</translation>
    </message>
    <message>
        <source>A layer named &apos;{0}&apos; was added meanwhile; import again with another name.</source>
        <translation>此间已添加名为“{0}”的图层；请换一个名称重新导入。</translation>
    </message>
    <message>
        <source>Add layer from file</source>
        <translation>从文件添加图层</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Leave empty to name the layer after the file (files with several layers keep their names).</source>
        <translation>留空则以文件名命名图层（包含多个图层的文件保留各图层原名）。</translation>
    </message>
    <message>
        <source>all layers</source>
        <translation>全部图层</translation>
    </message>
    <message>
        <source>For a GeoPackage or zip with several layers: import only this one.</source>
        <translation>对于包含多个图层的 GeoPackage 或 zip 文件：仅导入此图层。</translation>
    </message>
    <message>
        <source>Public</source>
        <translation>公开</translation>
    </message>
    <message>
        <source>Internal</source>
        <translation>内部</translation>
    </message>
    <message>
        <source>Restricted</source>
        <translation>受限</translation>
    </message>
    <message>
        <source>e.g. EPSG:4547</source>
        <translation>如 EPSG:4547</translation>
    </message>
    <message>
        <source>The CRS of the coordinates, for files that declare none (a shapefile without .prj) or CSV not in longitude/latitude. If the file declares another CRS, this one wins and the import notes it.</source>
        <translation>坐标所用的坐标系，适用于未声明坐标系的文件（缺少 .prj 的 shapefile）或非经纬度的 CSV。若文件声明了其他坐标系，以此处设置为准，并在导入时注明。</translation>
    </message>
    <message>
        <source>CSV only: the coordinate columns; leave empty to detect lon/lat or x/y.</source>
        <translation>仅用于 CSV：坐标字段；留空则自动识别经度/纬度或 x/y 字段。</translation>
    </message>
    <message>
        <source>Replace a layer of the same name</source>
        <translation>替换同名图层</translation>
    </message>
    <message>
        <source>File:</source>
        <translation>文件：</translation>
    </message>
    <message>
        <source>Layer name:</source>
        <translation>图层名称：</translation>
    </message>
    <message>
        <source>Source layer:</source>
        <translation>源图层：</translation>
    </message>
    <message>
        <source>Department:</source>
        <translation>部门：</translation>
    </message>
    <message>
        <source>Classification:</source>
        <translation>密级：</translation>
    </message>
    <message>
        <source>CRS if missing:</source>
        <translation>缺省坐标系：</translation>
    </message>
    <message>
        <source>X / longitude column:</source>
        <translation>X / 经度字段：</translation>
    </message>
    <message>
        <source>Y / latitude column:</source>
        <translation>Y / 纬度字段：</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>Choose a data file</source>
        <translation>选择数据文件</translation>
    </message>
    <message>
        <source>Data files ({0});;All files (*)</source>
        <translation>数据文件 ({0});;所有文件 (*)</translation>
    </message>
    <message>
        <source>Choose a file first.</source>
        <translation>请先选择文件。</translation>
    </message>
    <message>
        <source>The file {0} does not exist.</source>
        <translation>文件 {0} 不存在。</translation>
    </message>
    <message>
        <source>Give both the X and the Y column, or neither.</source>
        <translation>请同时指定 X 和 Y 字段，或都不指定。</translation>
    </message>
    <message>
        <source>Importing {0}…</source>
        <translation>正在导入 {0}…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Add layer</source>
        <translation>添加图层</translation>
    </message>
    <message>
        <source>Canceling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>导入失败</translation>
    </message>
</context>
<context>
    <name>LayerProperties</name>
    <message>
        <source>Properties — {0}</source>
        <translation>属性 — {0}</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <source>Title (English):</source>
        <translation>标题（英文）：</translation>
    </message>
    <message>
        <source>Title (Chinese):</source>
        <translation>标题（中文）：</translation>
    </message>
    <message>
        <source>A department code; pick one or type another.</source>
        <translation>部门代码；可从列表中选择或直接输入。</translation>
    </message>
    <message>
        <source>Department:</source>
        <translation>部门：</translation>
    </message>
    <message>
        <source>Public</source>
        <translation>公开</translation>
    </message>
    <message>
        <source>Internal</source>
        <translation>内部</translation>
    </message>
    <message>
        <source>Restricted</source>
        <translation>受限</translation>
    </message>
    <message>
        <source>Classification:</source>
        <translation>密级：</translation>
    </message>
    <message>
        <source>Kind:</source>
        <translation>类型：</translation>
    </message>
    <message>
        <source>Vector</source>
        <translation>矢量</translation>
    </message>
    <message>
        <source>Raster</source>
        <translation>栅格</translation>
    </message>
    <message>
        <source>Table</source>
        <translation>表格</translation>
    </message>
    <message>
        <source>Geometry:</source>
        <translation>几何类型：</translation>
    </message>
    <message>
        <source>CRS:</source>
        <translation>坐标系：</translation>
    </message>
    <message>
        <source>{0} × {1} pixels</source>
        <translation>{0} × {1} 像素</translation>
    </message>
    <message>
        <source>file missing</source>
        <translation>文件缺失</translation>
    </message>
    <message>
        <source>Size:</source>
        <translation>大小：</translation>
    </message>
    <message>
        <source>File:</source>
        <translation>文件：</translation>
    </message>
    <message>
        <source>Features:</source>
        <translation>要素数：</translation>
    </message>
    <message>
        <source>Source:</source>
        <translation>数据源：</translation>
    </message>
    <message>
        <source>Updated:</source>
        <translation>更新时间：</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>The department must not be empty.</source>
        <translation>部门不能为空。</translation>
    </message>
</context>
<context>
    <name>LayerTree</name>
    <message>
        <source>Other</source>
        <extracomment>Item data role holding the layer name (layer and legend rows) or department code (groups). Item data role holding the row kind: ``&quot;group&quot;``, ``&quot;layer&quot;`` or ``&quot;legend&quot;``. Drag-and-drop payload type (JSON ``{&quot;kind&quot;: &quot;layer&quot;|&quot;group&quot;, &quot;key&quot;: name}``).</extracomment>
        <translation>其他</translation>
    </message>
    <message>
        <source>≤ {0}</source>
        <translation>≤ {0}</translation>
    </message>
    <message>
        <source>low – high</source>
        <translation>低 – 高</translation>
    </message>
</context>
<context>
    <name>LayerTreeModel</name>
    <message>
        <source>Department: {0}</source>
        <extracomment>Visibility and order edits go through this QUndoStack when set.</extracomment>
        <translation>部门：{0}</translation>
    </message>
    <message>
        <source>Classification: {0}</source>
        <translation>密级：{0}</translation>
    </message>
    <message>
        <source>Features: {0}</source>
        <translation>要素数：{0}</translation>
    </message>
    <message>
        <source>Opacity: {0}%</source>
        <translation>不透明度：{0}%</translation>
    </message>
    <message>
        <source>The data file is missing.</source>
        <translation>数据文件缺失。</translation>
    </message>
</context>
<context>
    <name>LayerTreeWidget</name>
    <message>
        <source>Opacity</source>
        <translation>不透明度</translation>
    </message>
    <message>
        <source>Opacity of the selected layer</source>
        <translation>所选图层的不透明度</translation>
    </message>
    <message>
        <source>Zoom to layer</source>
        <translation>缩放至图层</translation>
    </message>
    <message>
        <source>Open attribute table</source>
        <translation>打开属性表</translation>
    </message>
    <message>
        <source>Style…</source>
        <translation>样式…</translation>
    </message>
    <message>
        <source>Properties…</source>
        <translation>属性…</translation>
    </message>
    <message>
        <source>Move up</source>
        <translation>上移</translation>
    </message>
    <message>
        <source>Move down</source>
        <translation>下移</translation>
    </message>
    <message>
        <source>Remove layer…</source>
        <translation>移除图层…</translation>
    </message>
    <message>
        <source>Show all</source>
        <translation>全部显示</translation>
    </message>
    <message>
        <source>Hide all</source>
        <translation>全部隐藏</translation>
    </message>
    <message>
        <source>Add layer…</source>
        <translation>添加图层…</translation>
    </message>
    <message>
        <source>Remove layer</source>
        <translation>移除图层</translation>
    </message>
    <message>
        <source>Remove the layer “{0}” from the workspace? The change is saved only when you save the workspace.</source>
        <translation>从工作空间中移除图层“{0}”？此更改在保存工作空间后才会生效。</translation>
    </message>
</context>
<context>
    <name>ListEditor</name>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>(empty text)</source>
        <translation>（空文本）</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Layers</source>
        <extracomment>(object name, tool name for MapCanvas.set_tool, shortcut) One undo stack for the window: layer remove/add/reorder, visibility, opacity, style and properties (Edit ▸ Undo / Redo).</extracomment>
        <translation>图层</translation>
    </message>
    <message>
        <source>Open a layer&apos;s attribute table from the Layers panel.</source>
        <translation>请在图层面板中打开图层的属性表。</translation>
    </message>
    <message>
        <source>Attributes</source>
        <translation>属性表</translation>
    </message>
    <message>
        <source>Query</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Drills</source>
        <translation>演练</translation>
    </message>
    <message>
        <source>Attributes — {0}</source>
        <translation>属性表 — {0}</translation>
    </message>
    <message>
        <source>&amp;New workspace</source>
        <translation>新建工作空间(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Open workspace…</source>
        <translation>打开工作空间(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>保存(&amp;S)</translation>
    </message>
    <message>
        <source>Save &amp;as…</source>
        <translation>另存为(&amp;A)…</translation>
    </message>
    <message>
        <source>&amp;Add layer from file…</source>
        <translation>从文件添加图层(&amp;A)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <source>Zoom &amp;in</source>
        <translation>放大(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom &amp;out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Full extent</source>
        <translation>全图(&amp;F)</translation>
    </message>
    <message>
        <source>Zoom to &amp;layer</source>
        <translation>缩放至图层(&amp;L)</translation>
    </message>
    <message>
        <source>Zoom to &amp;selection</source>
        <translation>缩放至选择(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Query builder</source>
        <translation>查询构建器(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Drills</source>
        <translation>演练(&amp;D)</translation>
    </message>
    <message>
        <source>Map &amp;CRS…</source>
        <translation>地图坐标系(&amp;C)…</translation>
    </message>
    <message>
        <source>&amp;About CityFrame</source>
        <translation>关于 CityFrame(&amp;A)</translation>
    </message>
    <message>
        <source>Pan</source>
        <translation>平移</translation>
    </message>
    <message>
        <source>Identify</source>
        <translation>识别</translation>
    </message>
    <message>
        <source>Select</source>
        <translation>选择</translation>
    </message>
    <message>
        <source>Select by rectangle</source>
        <translation>矩形选择</translation>
    </message>
    <message>
        <source>Select by polygon</source>
        <translation>多边形选择</translation>
    </message>
    <message>
        <source>Measure distance</source>
        <translation>量测距离</translation>
    </message>
    <message>
        <source>Measure area</source>
        <translation>量测面积</translation>
    </message>
    <message>
        <source>Draw point</source>
        <translation>绘制点</translation>
    </message>
    <message>
        <source>Draw line</source>
        <translation>绘制线</translation>
    </message>
    <message>
        <source>Draw polygon</source>
        <translation>绘制多边形</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;sample city</source>
        <translation>打开示例城市(&amp;S)</translation>
    </message>
    <message>
        <source>Open &amp;recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation>设置(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Map tools</source>
        <translation>地图工具</translation>
    </message>
    <message>
        <source>Choose a layer with features in the Layers panel first.</source>
        <translation>请先在图层面板中选择一个包含要素的图层。</translation>
    </message>
    <message>
        <source>Change the map CRS</source>
        <translation>更改地图坐标系</translation>
    </message>
    <message>
        <source>Scale 1:{0}</source>
        <translation>比例尺 1:{0}</translation>
    </message>
    <message>
        <source>Area: {0} m² ({1} ha)</source>
        <translation>面积：{0} 平方米（{1} 公顷）</translation>
    </message>
    <message>
        <source>Distance: {0} m</source>
        <translation>距离：{0} 米</translation>
    </message>
    <message>
        <source>Nothing here.</source>
        <translation>此处无要素。</translation>
    </message>
    <message>
        <source>Identify results</source>
        <translation>识别结果</translation>
    </message>
    <message>
        <source>CityFrame</source>
        <translation>CityFrame</translation>
    </message>
    <message>
        <source>Unsaved workspace</source>
        <translation>未保存的工作空间</translation>
    </message>
    <message>
        <source>CityFrame — {0}</source>
        <translation>CityFrame — {0}</translation>
    </message>
    <message>
        <source>Cannot open workspace</source>
        <translation>无法打开工作空间</translation>
    </message>
    <message>
        <source>Open workspace</source>
        <translation>打开工作空间</translation>
    </message>
    <message>
        <source>GeoPackage workspaces (*.gpkg)</source>
        <translation>GeoPackage 工作空间 (*.gpkg)</translation>
    </message>
    <message>
        <source>Cannot save workspace</source>
        <translation>无法保存工作空间</translation>
    </message>
    <message>
        <source>Save workspace as</source>
        <translation>工作空间另存为</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>未保存的更改</translation>
    </message>
    <message>
        <source>The workspace has unsaved changes. Save them first?</source>
        <translation>工作空间有未保存的更改。是否先保存？</translation>
    </message>
    <message>
        <source>About CityFrame</source>
        <translation>关于 CityFrame</translation>
    </message>
    <message>
        <source>&lt;h3&gt;CityFrame {0}&lt;/h3&gt;&lt;p&gt;Offline desktop GIS for cross-agency decision support.&lt;/p&gt;&lt;p&gt;Sample data: synthetic cities made by CityFrame&apos;s generator; {1}&lt;/p&gt;</source>
        <translation>&lt;h3&gt;CityFrame {0}&lt;/h3&gt;&lt;p&gt;面向跨部门决策支持的离线桌面 GIS。&lt;/p&gt;&lt;p&gt;示例数据：由 CityFrame 生成器合成的虚拟城市；{1}&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>MapCanvas</name>
    <message>
        <source>No map loaded</source>
        <extracomment>Tool names accepted by :meth:`MapCanvas.set_tool`. Python hands the GIL between threads every this many seconds at most; the default 5 ms lets a busy render thread delay each UI-thread slot by 5 ms. Quiet time after a pan or zoom before a fresh render starts. Pixel tolerance of identify and click-select. Zoom factor of zoom_in/zoom_out and of one wheel notch. Features listed per layer by identify. Keep the prepared layers of this many map CRSs.</extracomment>
        <translation>未加载地图</translation>
    </message>
</context>
<context>
    <name>NeedsDialog</name>
    <message>
        <source>Minimum needs per displaced person</source>
        <translation>每名转移人员的最低需求</translation>
    </message>
    <message>
        <source>Need</source>
        <translation>物资</translation>
    </message>
    <message>
        <source>Per person</source>
        <translation>每人每天</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>默认值</translation>
    </message>
    <message>
        <source>Default profile: {0}</source>
        <translation>默认标准：{0}</translation>
    </message>
    <message>
        <source>Reset to defaults</source>
        <translation>恢复默认值</translation>
    </message>
</context>
<context>
    <name>QueryBuilder</name>
    <message>
        <source>is</source>
        <extracomment>Text columns with at most this many distinct values get a value picker.</extracomment>
        <translation>等于</translation>
    </message>
    <message>
        <source>is not</source>
        <translation>不等于</translation>
    </message>
    <message>
        <source>less than</source>
        <translation>小于</translation>
    </message>
    <message>
        <source>at most</source>
        <translation>小于等于</translation>
    </message>
    <message>
        <source>more than</source>
        <translation>大于</translation>
    </message>
    <message>
        <source>at least</source>
        <translation>大于等于</translation>
    </message>
    <message>
        <source>is one of</source>
        <translation>属于</translation>
    </message>
    <message>
        <source>is none of</source>
        <translation>不属于</translation>
    </message>
    <message>
        <source>between</source>
        <translation>介于</translation>
    </message>
    <message>
        <source>contains</source>
        <translation>包含</translation>
    </message>
    <message>
        <source>is empty</source>
        <translation>为空</translation>
    </message>
    <message>
        <source>is not empty</source>
        <translation>不为空</translation>
    </message>
    <message>
        <source>intersects</source>
        <translation>相交于</translation>
    </message>
    <message>
        <source>lies within</source>
        <translation>位于其内</translation>
    </message>
    <message>
        <source>within a distance of</source>
        <translation>距离不超过</translation>
    </message>
    <message>
        <source>farther than a distance from every</source>
        <translation>与每个要素的距离均超过</translation>
    </message>
    <message>
        <source>nearest</source>
        <translation>最邻近</translation>
    </message>
    <message>
        <source>count</source>
        <translation>计数</translation>
    </message>
    <message>
        <source>sum</source>
        <translation>求和</translation>
    </message>
    <message>
        <source>mean</source>
        <translation>平均值</translation>
    </message>
    <message>
        <source>minimum</source>
        <translation>最小值</translation>
    </message>
    <message>
        <source>maximum</source>
        <translation>最大值</translation>
    </message>
    <message>
        <source>optional title of the query</source>
        <translation>查询标题（可选）</translation>
    </message>
    <message>
        <source>The layer (or saved query) whose features to find</source>
        <translation>要查找其要素的图层（或已保存的查询）</translation>
    </message>
    <message>
        <source>Spatial relation</source>
        <translation>空间关系</translation>
    </message>
    <message>
        <source> m</source>
        <translation> 米</translation>
    </message>
    <message>
        <source>Distance on the ground, in metres</source>
        <translation>地面距离，单位为米</translation>
    </message>
    <message>
        <source>Relation:</source>
        <translation>关系：</translation>
    </message>
    <message>
        <source>Layer:</source>
        <translation>图层：</translation>
    </message>
    <message>
        <source>Distance:</source>
        <translation>距离：</translation>
    </message>
    <message>
        <source>Neighbours (k):</source>
        <translation>邻近数 (k)：</translation>
    </message>
    <message>
        <source>Max. distance:</source>
        <translation>最大距离：</translation>
    </message>
    <message>
        <source>Reference filters:</source>
        <translation>参考图层筛选：</translation>
    </message>
    <message>
        <source>Group by zone</source>
        <translation>按区域分组</translation>
    </message>
    <message>
        <source>A layer of zones (polygons)</source>
        <translation>区域图层（面）</translation>
    </message>
    <message>
        <source>The zone&apos;s id column</source>
        <translation>区域的标识字段</translation>
    </message>
    <message>
        <source>Zones:</source>
        <translation>区域：</translation>
    </message>
    <message>
        <source>Key column:</source>
        <translation>关键字段：</translation>
    </message>
    <message>
        <source>Aggregates</source>
        <translation>统计项</translation>
    </message>
    <message>
        <source>Find</source>
        <translation>查找</translation>
    </message>
    <message>
        <source>Title:</source>
        <translation>标题：</translation>
    </message>
    <message>
        <source>Where:</source>
        <translation>条件：</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Run the query (Ctrl+Enter)</source>
        <translation>运行查询 (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Save…</source>
        <translation>保存…</translation>
    </message>
    <message>
        <source>Save the query in the workspace</source>
        <translation>将查询保存到工作空间</translation>
    </message>
    <message>
        <source>Queries saved in the workspace</source>
        <translation>工作空间中已保存的查询</translation>
    </message>
    <message>
        <source>Load</source>
        <translation>加载</translation>
    </message>
    <message>
        <source>Open file…</source>
        <translation>打开文件…</translation>
    </message>
    <message>
        <source>Save file…</source>
        <translation>保存到文件…</translation>
    </message>
    <message>
        <source>Click a query to load it into the form</source>
        <translation>单击查询将其加载到表单中</translation>
    </message>
    <message>
        <source>History (this session):</source>
        <translation>历史记录（本次会话）：</translation>
    </message>
    <message>
        <source>Saved query: {0}</source>
        <translation>已保存的查询：{0}</translation>
    </message>
    <message>
        <source>(not in this workspace)</source>
        <translation>（不在此工作空间中）</translation>
    </message>
    <message>
        <source>(the query is not complete yet)</source>
        <translation>（查询尚未填写完整）</translation>
    </message>
    <message>
        <source>Cannot load the query</source>
        <translation>无法加载查询</translation>
    </message>
    <message>
        <source>Running…</source>
        <translation>正在运行…</translation>
    </message>
    <message>
        <source>{0} matched in {1} ms</source>
        <translation>匹配 {0} 个，用时 {1} 毫秒</translation>
    </message>
    <message>
        <source>The query failed: {0}</source>
        <translation>查询失败：{0}</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Save query</source>
        <translation>保存查询</translation>
    </message>
    <message>
        <source>Name of the saved query:</source>
        <translation>查询保存名称：</translation>
    </message>
    <message>
        <source>Replace saved query?</source>
        <translation>替换已保存的查询？</translation>
    </message>
    <message>
        <source>A saved query called “{0}” already exists. Replace it?</source>
        <translation>已存在名为“{0}”的查询。是否替换？</translation>
    </message>
    <message>
        <source>Saved as “{0}”</source>
        <translation>已保存为“{0}”</translation>
    </message>
    <message>
        <source>Open query file</source>
        <translation>打开查询文件</translation>
    </message>
    <message>
        <source>Query files (*.json)</source>
        <translation>查询文件 (*.json)</translation>
    </message>
    <message>
        <source>Save query file</source>
        <translation>保存查询文件</translation>
    </message>
    <message>
        <source>Cannot save the query</source>
        <translation>无法保存查询</translation>
    </message>
    <message>
        <source>Written to {0}</source>
        <translation>已写入 {0}</translation>
    </message>
</context>
<context>
    <name>ResultsPanel</name>
    <message>
        <source>Run a query in the Query panel to see its result here.</source>
        <extracomment>At most this many bars (the largest values) in the chart of a grouped result.</extracomment>
        <translation>在查询面板中运行查询后，结果将显示在此处。</translation>
    </message>
    <message>
        <source>Add as layer</source>
        <translation>添加为图层</translation>
    </message>
    <message>
        <source>Add the result to the map as a new layer</source>
        <translation>将结果作为新图层添加到地图</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Write the result to GeoPackage, GeoJSON or CSV</source>
        <translation>将结果导出为 GeoPackage、GeoJSON 或 CSV</translation>
    </message>
    <message>
        <source>The aggregate shown in the chart</source>
        <translation>图表中显示的统计项</translation>
    </message>
    <message>
        <source>Show:</source>
        <translation>显示：</translation>
    </message>
    <message>
        <source>Table</source>
        <translation>表格</translation>
    </message>
    <message>
        <source>Chart</source>
        <translation>图表</translation>
    </message>
    <message>
        <source>{0} matched · {1} zones · {2} ms</source>
        <translation>匹配 {0} 个 · {1} 个区域 · {2} 毫秒</translation>
    </message>
    <message>
        <source>{0} matched · {1} rows · {2} ms</source>
        <translation>匹配 {0} 个 · {1} 行 · {2} 毫秒</translation>
    </message>
    <message>
        <source>A chart appears for queries grouped by zone.</source>
        <translation>按区域分组的查询会显示图表。</translation>
    </message>
    <message>
        <source>No zone has a match.</source>
        <translation>没有区域包含匹配要素。</translation>
    </message>
    <message>
        <source>{0} (the {1} largest of {2} zones)</source>
        <translation>{0}（{2} 个区域中最大的 {1} 个）</translation>
    </message>
    <message>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <source>GeoJSON (*.geojson)</source>
        <translation>GeoJSON (*.geojson)</translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation>CSV (*.csv)</translation>
    </message>
    <message>
        <source>Export result</source>
        <translation>导出结果</translation>
    </message>
    <message>
        <source>Exporting to {0}…</source>
        <translation>正在导出至 {0}…</translation>
    </message>
    <message>
        <source>Exported to {0}</source>
        <translation>已导出至 {0}</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
</context>
<context>
    <name>SampleCard</name>
    <message>
        <source>(no preview)</source>
        <translation>（无预览）</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
</context>
<context>
    <name>ScalarEditor</name>
    <message>
        <source>true</source>
        <translation>是</translation>
    </message>
    <message>
        <source>false</source>
        <translation>否</translation>
    </message>
    <message>
        <source>(empty text)</source>
        <translation>（空文本）</translation>
    </message>
    <message>
        <source>value</source>
        <translation>值</translation>
    </message>
</context>
<context>
    <name>StyleEditor</name>
    <message>
        <source>Style — {0}</source>
        <extracomment>Longest wait of Apply/OK for a running classification (ms).</extracomment>
        <translation>样式 — {0}</translation>
    </message>
    <message>
        <source>Single symbol</source>
        <translation>单一符号</translation>
    </message>
    <message>
        <source>Categorised</source>
        <translation>分类</translation>
    </message>
    <message>
        <source>Graduated</source>
        <translation>分级</translation>
    </message>
    <message>
        <source>Colour ramp</source>
        <translation>色带</translation>
    </message>
    <message>
        <source>Classifying…</source>
        <translation>正在分级…</translation>
    </message>
    <message>
        <source>Style:</source>
        <translation>样式：</translation>
    </message>
    <message>
        <source>Legend preview</source>
        <translation>图例预览</translation>
    </message>
    <message>
        <source>qualitative</source>
        <translation>定性</translation>
    </message>
    <message>
        <source>Fill:</source>
        <translation>填充：</translation>
    </message>
    <message>
        <source>Outline:</source>
        <translation>轮廓：</translation>
    </message>
    <message>
        <source>Outline width (px):</source>
        <translation>轮廓宽度（像素）：</translation>
    </message>
    <message>
        <source>Point size (px):</source>
        <translation>点大小（像素）：</translation>
    </message>
    <message>
        <source>Column:</source>
        <translation>字段：</translation>
    </message>
    <message>
        <source>Colours:</source>
        <translation>颜色：</translation>
    </message>
    <message>
        <source>Method:</source>
        <translation>方法：</translation>
    </message>
    <message>
        <source>Classes:</source>
        <translation>分级数：</translation>
    </message>
    <message>
        <source>Colour ramp:</source>
        <translation>色带：</translation>
    </message>
    <message>
        <source>Stretch to the band&apos;s minimum and maximum</source>
        <translation>按波段最小值和最大值拉伸</translation>
    </message>
    <message>
        <source>Minimum:</source>
        <translation>最小值：</translation>
    </message>
    <message>
        <source>Maximum:</source>
        <translation>最大值：</translation>
    </message>
    <message>
        <source>The layer has no numeric column to classify.</source>
        <translation>该图层没有可用于分级的数值字段。</translation>
    </message>
    <message>
        <source>The layer has no column to categorise by.</source>
        <translation>该图层没有可用于分类的字段。</translation>
    </message>
    <message>
        <source>{0} more values are drawn with the default symbol.</source>
        <translation>另有 {0} 个值使用默认符号绘制。</translation>
    </message>
    <message>
        <source>The classification is taking too long; try another method or fewer classes.</source>
        <translation>分级耗时过长，请尝试其他方法或减少分级数。</translation>
    </message>
    <message>
        <source>Style of {0}</source>
        <translation>{0} 的样式</translation>
    </message>
</context>
<context>
    <name>Undo</name>
    <message>
        <source>Show {0}</source>
        <translation>显示 {0}</translation>
    </message>
    <message>
        <source>Hide {0}</source>
        <translation>隐藏 {0}</translation>
    </message>
    <message>
        <source>Opacity of {0}</source>
        <translation>修改 {0} 的不透明度</translation>
    </message>
    <message>
        <source>Style of {0}</source>
        <translation>修改 {0} 的样式</translation>
    </message>
    <message>
        <source>Properties of {0}</source>
        <translation>修改 {0} 的属性</translation>
    </message>
    <message>
        <source>Rename {0}</source>
        <translation>重命名 {0}</translation>
    </message>
    <message>
        <source>Remove {0}</source>
        <translation>移除 {0}</translation>
    </message>
    <message>
        <source>Add {0}</source>
        <translation>添加 {0}</translation>
    </message>
    <message>
        <source>Reorder layers</source>
        <translation>调整图层顺序</translation>
    </message>
</context>
<context>
    <name>ValueEditor</name>
    <message>
        <source>and</source>
        <translation>和</translation>
    </message>
</context>
<context>
    <name>WelcomeScreen</name>
    <message>
        <source>&lt;h1&gt;CityFrame&lt;/h1&gt;&lt;p&gt;Offline GIS for cross-agency decision support: one city framework, every department&apos;s data.&lt;/p&gt;</source>
        <translation>&lt;h1&gt;CityFrame&lt;/h1&gt;&lt;p&gt;面向跨部门决策支持的离线 GIS：一个城市框架，汇聚各部门数据。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>New workspace</source>
        <translation>新建工作空间</translation>
    </message>
    <message>
        <source>Open a file…</source>
        <translation>打开文件…</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Sample cities&lt;/h3&gt;</source>
        <translation>&lt;h3&gt;示例城市&lt;/h3&gt;</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Recent workspaces&lt;/h3&gt;</source>
        <translation>&lt;h3&gt;最近的工作空间&lt;/h3&gt;</translation>
    </message>
    <message>
        <source>{0} (missing)</source>
        <translation>{0}（缺失）</translation>
    </message>
    <message>
        <source>No recent workspaces yet.</source>
        <translation>暂无最近的工作空间。</translation>
    </message>
</context>
<context>
    <name>_ColorButton</name>
    <message>
        <source>Choose a colour</source>
        <extracomment>At most this many categories are listed; rarer values use the default symbol. A qualitative palette for categories (Tableau 10), offered as the ramp &quot;qualitative&quot;.</extracomment>
        <translation>选择颜色</translation>
    </message>
</context>
</TS>
