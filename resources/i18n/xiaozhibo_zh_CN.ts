<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Card</name>
    <message>
        <location filename="../../app/ui/cards.py" line="120"/>
        <source>LIVE</source>
        <translation>直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/cards.py" line="120"/>
        <source>Replay</source>
        <translation>回放</translation>
    </message>
    <message>
        <location filename="../../app/ui/cards.py" line="120"/>
        <source>Short</source>
        <translation>短视频</translation>
    </message>
    <message>
        <location filename="../../app/ui/cards.py" line="125"/>
        <source>(untitled)</source>
        <translation>（无标题）</translation>
    </message>
    <message>
        <location filename="../../app/ui/cards.py" line="139"/>
        <source>{0} viewers, {1} likes</source>
        <translation>{0} 人观看，{1} 个赞</translation>
    </message>
    <message>
        <location filename="../../app/ui/cards.py" line="142"/>
        <source>Unknown location</source>
        <translation>未知地点</translation>
    </message>
    <message>
        <location filename="../../app/ui/cards.py" line="148"/>
        <source>Double-click to watch</source>
        <translation>双击观看</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <location filename="../../app/ui/errors.py" line="23"/>
        <source>The server does not support this request (is the server address right?).</source>
        <translation>服务器不支持此请求（服务器地址是否正确？）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="24"/>
        <source>Your session has expired. Please log in again.</source>
        <translation>登录已过期，请重新登录。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="25"/>
        <source>The server had an internal error. Try again later.</source>
        <translation>服务器内部错误，请稍后重试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="26"/>
        <source>The server could not save the change.</source>
        <translation>服务器未能保存修改。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="27"/>
        <source>The server refused a value as invalid.</source>
        <translation>服务器认为提交的内容无效。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="28"/>
        <source>User ID must be 4-24 letters, digits or _ and start with a letter.</source>
        <translation>用户名须为 4-24 位字母、数字或下划线，并以字母开头。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="29"/>
        <source>The password could not be sent in the expected format.</source>
        <translation>密码未能以要求的格式发送。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="30"/>
        <source>This user ID is already registered.</source>
        <translation>该用户名已被注册。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="31"/>
        <source>No such user. Register first.</source>
        <translation>用户不存在，请先注册。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="32"/>
        <source>Wrong password.</source>
        <translation>密码错误。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="33"/>
        <source>Too many attempts from this computer. Wait a minute and try again.</source>
        <translation>本机尝试次数过多，请一分钟后再试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="34"/>
        <source>The file is too large for the server.</source>
        <translation>文件太大，服务器无法接收。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="35"/>
        <source>Unsupported file type: use a JPEG, PNG or WebP image.</source>
        <translation>不支持的文件类型：请使用 JPEG、PNG 或 WebP 图片。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="43"/>
        <source>Cannot reach the server. Check the server address in Settings and that the server is running.</source>
        <translation>无法连接服务器。请在设置中检查服务器地址，并确认服务器正在运行。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="47"/>
        <source>Server error {code}: {message}</source>
        <translation>服务器错误 {code}：{message}</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="50"/>
        <source>File or network error: {0}</source>
        <translation>文件或网络错误：{0}</translation>
    </message>
</context>
<context>
    <name>FeedPage</name>
    <message>
        <location filename="../../app/ui/feed.py" line="87"/>
        <source>Load more</source>
        <translation>加载更多</translation>
    </message>
    <message>
        <location filename="../../app/ui/feed.py" line="129"/>
        <location filename="../../app/ui/feed.py" line="137"/>
        <source>Loading…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <location filename="../../app/ui/feed.py" line="168"/>
        <source>No more items</source>
        <translation>没有更多了</translation>
    </message>
    <message>
        <location filename="../../app/ui/feed.py" line="172"/>
        <location filename="../../app/ui/feed.py" line="185"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../app/ui/feed.py" line="183"/>
        <source>Live rooms are not available in this version of the client yet.</source>
        <translation>此版本客户端暂不支持直播列表。</translation>
    </message>
    <message>
        <location filename="../../app/ui/feed.py" line="184"/>
        <source>This server does not provide the live room list.</source>
        <translation>此服务器未提供直播房间列表。</translation>
    </message>
    <message>
        <location filename="../../app/ui/feed.py" line="191"/>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
</context>
<context>
    <name>LogViewer</name>
    <message>
        <location filename="../../app/ui/log_view.py" line="39"/>
        <source>Client log</source>
        <translation>客户端日志</translation>
    </message>
    <message>
        <location filename="../../app/ui/log_view.py" line="56"/>
        <source>Filter</source>
        <translation>筛选</translation>
    </message>
    <message>
        <location filename="../../app/ui/log_view.py" line="59"/>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="45"/>
        <location filename="../../app/ui/login_dialog.py" line="125"/>
        <source>Xiaozhibo — Log in</source>
        <translation>小直播 — 登录</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="53"/>
        <source>Xiaozhibo</source>
        <translation>小直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="59"/>
        <location filename="../../app/ui/login_dialog.py" line="91"/>
        <location filename="../../app/ui/login_dialog.py" line="124"/>
        <location filename="../../app/ui/login_dialog.py" line="146"/>
        <source>Log in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="60"/>
        <source>Register</source>
        <translation>注册</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="66"/>
        <source>4-24 letters, digits or _</source>
        <translation>4-24 位字母、数字或下划线</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="78"/>
        <source>Server settings</source>
        <translation>服务器设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="82"/>
        <source>User ID</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="83"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="84"/>
        <source>Confirm</source>
        <translation>确认密码</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="85"/>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="124"/>
        <location filename="../../app/ui/login_dialog.py" line="146"/>
        <source>Register and log in</source>
        <translation>注册并登录</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="125"/>
        <source>Xiaozhibo — Register</source>
        <translation>小直播 — 注册</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="140"/>
        <source>Please wait…</source>
        <translation>请稍候…</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="153"/>
        <source>User ID must be 4-24 letters, digits or _ and start with a letter.</source>
        <translation>用户名须为 4-24 位字母、数字或下划线，并以字母开头。</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="155"/>
        <source>Enter your password.</source>
        <translation>请输入密码。</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="158"/>
        <source>Password must be at least {0} characters.</source>
        <translation>密码至少需要 {0} 个字符。</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="160"/>
        <source>The two passwords differ.</source>
        <translation>两次输入的密码不一致。</translation>
    </message>
    <message>
        <location filename="../../app/ui/login_dialog.py" line="163"/>
        <source>Server address must start with http:// or https://.</source>
        <translation>服务器地址必须以 http:// 或 https:// 开头。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../app/ui/main_window.py" line="53"/>
        <source>Xiaozhibo</source>
        <translation>小直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="60"/>
        <source>Nobody is live right now.</source>
        <translation>现在没有人在直播。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="61"/>
        <source>No replays yet. Finished live shows appear here.</source>
        <translation>暂无回放。直播结束后会出现在这里。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="62"/>
        <source>No short videos yet.</source>
        <translation>暂无短视频。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="63"/>
        <source>Live</source>
        <translation>直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="63"/>
        <source>Replays</source>
        <translation>回放</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="63"/>
        <source>Short videos</source>
        <translation>短视频</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="100"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="102"/>
        <source>Go live</source>
        <translation>开播</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="103"/>
        <source>Stop live</source>
        <translation>结束直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="104"/>
        <source>Mute</source>
        <translation>静音</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="105"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="106"/>
        <source>Log</source>
        <translation>日志</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="107"/>
        <source>My profile</source>
        <translation>个人资料</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="108"/>
        <source>Log out</source>
        <translation>退出登录</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="109"/>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="115"/>
        <source>Main</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="144"/>
        <source>Signing in…</source>
        <translation>正在登录…</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="187"/>
        <source>Your session has expired. Please log in again.</source>
        <translation>登录已过期，请重新登录。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="188"/>
        <source>You were signed in on another device.</source>
        <translation>您的账号已在其他设备登录。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="201"/>
        <source>{0} · {1}</source>
        <translation>{0} · {1}</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="261"/>
        <source>Stop live?</source>
        <translation>结束直播？</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="262"/>
        <source>You are live. Quit and end the live show?</source>
        <translation>正在直播中。要退出并结束直播吗？</translation>
    </message>
</context>
<context>
    <name>Ops</name>
    <message>
        <location filename="../../app/ui/ops.py" line="31"/>
        <source>Xiaozhibo</source>
        <translation>小直播</translation>
    </message>
</context>
<context>
    <name>ProfileDialog</name>
    <message>
        <location filename="../../app/ui/profile.py" line="78"/>
        <source>My profile</source>
        <translation>个人资料</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="95"/>
        <source>Not set</source>
        <translation>未设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="95"/>
        <source>Male</source>
        <translation>男</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="95"/>
        <source>Female</source>
        <translation>女</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="98"/>
        <source>Change avatar…</source>
        <translation>更换头像…</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="101"/>
        <source>Change cover…</source>
        <translation>更换封面…</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="110"/>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="114"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="129"/>
        <source>Nickname</source>
        <translation>昵称</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="130"/>
        <source>Sex</source>
        <translation>性别</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="131"/>
        <source>Cover</source>
        <translation>封面</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="157"/>
        <source>Choose an avatar</source>
        <translation>选择头像</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="157"/>
        <source>Choose a cover</source>
        <translation>选择封面</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="158"/>
        <source>Images (*.png *.jpg *.jpeg *.webp *.bmp)</source>
        <translation>图片 (*.png *.jpg *.jpeg *.webp *.bmp)</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="170"/>
        <source>Uploading {0}…</source>
        <translation>正在上传 {0}…</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="191"/>
        <source>Uploaded. Press Save to keep it.</source>
        <translation>已上传。点击“保存”后生效。</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="198"/>
        <source>Upload failed: {0}</source>
        <translation>上传失败：{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="207"/>
        <source>Nickname cannot be empty.</source>
        <translation>昵称不能为空。</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="212"/>
        <source>Saving…</source>
        <translation>正在保存…</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="217"/>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
    <message>
        <location filename="../../app/ui/profile.py" line="222"/>
        <source>Not saved: {0}</source>
        <translation>未保存：{0}</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="31"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="46"/>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="55"/>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="56"/>
        <source>Default resolution</source>
        <translation>默认分辨率</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="57"/>
        <source>Default frame rate</source>
        <translation>默认帧率</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="58"/>
        <source>Default bitrate</source>
        <translation>默认码率</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="59"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="60"/>
        <source>Changing the server signs you out. A new language applies after a restart.</source>
        <translation>更换服务器会退出登录。语言设置在重启后生效。</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="81"/>
        <source>Server address must start with http:// or https://.</source>
        <translation>服务器地址必须以 http:// 或 https:// 开头。</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="82"/>
        <source>Invalid value: {0}</source>
        <translation>无效的值：{0}</translation>
    </message>
</context>
<context>
    <name>Watch</name>
    <message>
        <location filename="../../app/ui/watch.py" line="47"/>
        <location filename="../../app/ui/watch.py" line="59"/>
        <source>Cannot play</source>
        <translation>无法播放</translation>
    </message>
    <message>
        <location filename="../../app/ui/watch.py" line="47"/>
        <source>This item has no play address.</source>
        <translation>该内容没有播放地址。</translation>
    </message>
    <message>
        <location filename="../../app/ui/watch.py" line="51"/>
        <source>Player not available</source>
        <translation>播放器不可用</translation>
    </message>
    <message>
        <location filename="../../app/ui/watch.py" line="52"/>
        <source>This build of the client has no video player yet.
Play address: {0}</source>
        <translation>此版本客户端暂无视频播放器。
播放地址：{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/watch.py" line="59"/>
        <source>The video could not be opened: {0}</source>
        <translation>无法打开视频：{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/watch.py" line="87"/>
        <source>Go live</source>
        <translation>开播</translation>
    </message>
    <message>
        <location filename="../../app/ui/watch.py" line="87"/>
        <source>Broadcasting from the desktop is not available in this build yet. You can publish with: xiaozhibo push --url RTMP_URL --source camera</source>
        <translation>此版本暂不支持桌面开播。可用命令行推流：xiaozhibo push --url RTMP_URL --source camera</translation>
    </message>
</context>
</TS>
